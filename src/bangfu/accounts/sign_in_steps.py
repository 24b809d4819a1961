"""What a sign-in must still pass once ``authenticate`` has accepted the password.

Kept apart from the password check (and its throttling) on purpose: the page and the token endpoint
call ``authenticate`` first, then these steps.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bangfu.accounts.second_factor import check_code
from bangfu.accounts.users import Account
from bangfu.store.tables import User

# The form field of POST /api/v1/auth/token that carries the six-digit code of an enrolled account.
TOKEN_CODE_FIELD = "totp_code"
MUST_CHANGE_FOR_TOKEN = "此账户的口令是临时口令，须先在网页登录页（/login）登录并设置新口令，之后才能取得 API 令牌"
CODE_MISSING = f"此账户已启用两步验证：请在表单字段 {TOKEN_CODE_FIELD} 中一并给出验证器应用当前显示的 6 位数字"
CODE_WRONG = "验证码不对：请输入验证器应用当前显示的 6 位数字（注意设备时间要准确）"


def token_refusal(session: Session, account: Account, code: str, address: str) -> tuple[int, str] | None:
    """(status, Chinese reason) when no API token may be issued to ``account`` yet, else None."""
    if account.second_factor:
        if not code.strip():
            return 401, CODE_MISSING
        user = session.get(User, account.id)
        if user is None or not check_code(session, user, code, address):
            return 401, CODE_WRONG
    if account.must_change_password:
        return 403, MUST_CHANGE_FOR_TOKEN
    return None
