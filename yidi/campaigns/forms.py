from django import forms

from yidi.accounts.models import Unit
from yidi.core.models import TaxonomyLabel
from yidi.core.taxonomies import MEDIATION_TYPE
from yidi.regions.domain import code_range
from yidi.regions.models import Region


class CampaignForm(forms.Form):
    """A campaign's definition; the choices are limited to the owning region (`scope_code`)."""

    name = forms.CharField(label="专项名称", max_length=80)
    description = forms.CharField(label="工作要求", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    starts_on = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="登记时间在此期间内的事项按规则自动纳入")
    ends_on = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))
    dispute_types = forms.MultipleChoiceField(label="纠纷类型", widget=forms.CheckboxSelectMultiple)
    regions = forms.MultipleChoiceField(label="治理区域", widget=forms.CheckboxSelectMultiple,
                                        help_text="选择县（市、区）即包含全部乡镇（街道）")
    lead_unit = forms.ChoiceField(label="牵头单位")
    member_units = forms.MultipleChoiceField(label="成员单位", required=False,
                                             widget=forms.SelectMultiple(attrs={"size": 8}))

    def __init__(self, *args, scope_code: str, **kwargs):
        super().__init__(*args, **kwargs)
        types = TaxonomyLabel.objects.filter(taxonomy__code=MEDIATION_TYPE.code, is_active=True).order_by(
            "position", "code")
        self.fields["dispute_types"].choices = [(label.code, label.name) for label in types]
        scope = Region.objects.filter(code=scope_code).first()
        regions = [scope] if scope else []
        regions += list(Region.objects.filter(parent_id=scope_code, is_active=True).order_by("code"))
        self.fields["regions"].choices = [(region.code, region.name) for region in regions]
        low, high = code_range(scope_code)
        units = Unit.objects.filter(region_id__gte=low, region_id__lt=high, is_active=True).order_by("region_id", "name")
        unit_choices = [(unit.code, unit.name) for unit in units]
        self.fields["lead_unit"].choices = [("", "请选择"), *unit_choices]
        self.fields["member_units"].choices = unit_choices

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "description": data["description"], "starts_on": data["starts_on"],
                "ends_on": data["ends_on"], "type_codes": data["dispute_types"], "region_codes": data["regions"],
                "lead_unit_code": data["lead_unit"], "member_unit_codes": data["member_units"]}


class LinkForm(forms.Form):
    case_code = forms.CharField(label="事项编码", max_length=24)
    reason = forms.CharField(label="纳入说明", max_length=300, required=False)


class UnlinkForm(forms.Form):
    case_code = forms.CharField(label="事项编码", max_length=24)
    reason = forms.CharField(label="移出理由", max_length=300)
