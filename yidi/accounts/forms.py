"""Forms of the log-in, two-factor and password pages. Labels and messages are Chinese."""

from django import forms
from django.contrib.auth import forms as auth_forms


class LoginForm(forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false",
                                      "autofocus": True}),
    )
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="验证码", max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
                                      "autocapitalize": "none", "spellcheck": "false"}),
    )


class EnrolmentForm(CodeForm):
    """Binding an authenticator from a logged-in session also asks for the password again (ASVS 7.5.1), so a
    borrowed session cannot bind the borrower's phone."""

    password = forms.CharField(
        label="当前密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("密码不正确。")
        return password


class RecoveryAwareCodeForm(CodeForm):
    """The log-in's second step: a code from the authenticator, or one of the recovery codes."""

    code = forms.CharField(
        label="验证码", max_length=20,
        help_text="打开手机上的验证器，输入“一地”显示的 6 位数字。手机丢失时可输入一个恢复码（如 abcde-fghjk）。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "none",
                                      "spellcheck": "false"}),
    )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (current password, new password twice, every validator) that also refuses the current
    password as the new one."""

    def clean(self):
        cleaned = super().clean()
        old, new = cleaned.get("old_password"), cleaned.get("new_password1")
        if old and new and old == new:
            self.add_error("new_password1", "新密码不能与当前密码相同。")
        return cleaned


class ConfirmIdentityForm(forms.Form):
    """Re-authentication before a sensitive action: the password, and the code for accounts with an
    authenticator (the view checks both through `auth.do_confirm_identity`)."""

    password = forms.CharField(
        label="当前密码", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    code = forms.CharField(
        label="验证码", max_length=6, required=False,
        help_text="打开手机上的验证器，输入“一地”显示的 6 位数字。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autocapitalize": "none", "spellcheck": "false"}),
    )

    def __init__(self, *args, needs_code: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_code:
            self.fields["code"].required = True
            self.fields["code"].error_messages["required"] = "请输入验证器上的 6 位数字。"
        else:
            del self.fields["code"]
