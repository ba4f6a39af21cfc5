from django import forms

from yidi.cases.domain import REQUEST_TYPE_LABELS


class TransferForm(forms.Form):
    to_region_code = forms.RegexField(label="接收县（市、区）区划代码", regex=r"^\d{6}$", max_length=6,
                                      error_messages={"invalid": "请填写 6 位县级区划代码"})
    to_region_name = forms.CharField(label="接收县（市、区）名称", max_length=60)
    reason = forms.CharField(label="移交理由", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class AssignForm(forms.Form):
    peer = forms.TypedChoiceField(label="下级平台", coerce=int)
    request_type = forms.ChoiceField(label="诉求类型", choices=[(k.value, v) for k, v in REQUEST_TYPE_LABELS.items()])
    title = forms.CharField(label="事项标题", max_length=120)
    description = forms.CharField(label="事项描述", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    region = forms.RegexField(label="发生地区划代码", regex=r"^\d{6,12}$",
                              error_messages={"invalid": "请填写 6～12 位区划代码"},
                              help_text="须在所选县（市、区）辖区内，如 330681103（枫桥镇）")
    address = forms.CharField(label="详细地点", max_length=200, required=False)
    applicant = forms.CharField(label="申请人姓名", max_length=80, required=False,
                                help_text="举报、意见建议可不填；其他诉求类型须填写")
    applicant_phone = forms.CharField(label="申请人电话", max_length=30, required=False)
    note = forms.CharField(label="交办要求", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, peers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["peer"].choices = [(peer.pk, f"{peer.name}（{peer.region_code}）") for peer in peers]

    def matter(self) -> dict:
        data = self.cleaned_data
        parties = []
        if data["applicant"]:
            parties.append({"role": "applicant", "name": data["applicant"], "kind": "natural",
                            "phone": data["applicant_phone"]})
        return {"title": data["title"], "description": data["description"], "region": data["region"],
                "request_type": data["request_type"], "address": data["address"], "parties": parties}
