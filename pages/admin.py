"""数据管理 (administrators only): template → upload and check → preview → publish; history,
rollback and the audit log. Viewers see the login form and nothing else."""

import streamlit as st

from dashboard import admin, auth, import_wizard
from dashboard.format import escape_markdown

st.title("数据管理")

if not auth.configured_hash() and not auth.oidc_configured():
    st.warning("尚未设置管理员，数据管理功能不可用。")
    st.markdown(
        "请由系统管理员在服务器上设置管理员密码（系统没有默认密码）：\n\n"
        "1. 运行 `python -m dashboard hash-password`，按提示输入两次密码；\n"
        "2. 把输出的 `[admin]` 两行写入 `.streamlit/secrets.toml`（或设置环境变量 "
        f"`{auth.ENV_HASH}`）；\n3. 重启看板。\n\n详见 `README.md` 的“数据管理”一节。"
    )
    st.stop()

user = auth.current_admin()
if user is None:
    if st.session_state.pop("expired_notice", False):
        st.info("长时间未操作，已自动退出，请重新登录。")
    with st.form("login", enter_to_submit=True):
        password = st.text_input("管理员密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        if auth.try_login(password):
            st.rerun()
        st.error("密码错误。多次失败后每次登录需要等待更长时间。")
    if auth.oidc_configured():
        st.button("使用单位统一身份认证登录", on_click=st.login)
    st.stop()

with st.sidebar:
    st.caption(f"管理员：{escape_markdown(user)}")  # a name from the identity provider
    if st.button("退出登录", icon=":material/logout:"):
        auth.logout()
        st.rerun()

if flash := st.session_state.pop("flash", None):
    st.success(flash)

admin.template_section()
st.divider()
check = admin.upload_section(user)
if check is not None and check.tables is not None:
    st.divider()
    admin.preview_section(check)
    st.divider()
    admin.publish_section(check, user)
st.divider()
admin.history_section(user)
import_wizard.recipes_section(user)
admin.audit_section()
