"""Users: the password policy, constant-time logins, deactivation, password reset and login
sessions, through the library and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

import dogtag.registry.users as users_module
from dogtag.cli import cli
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.ledger import AuditEntry
from dogtag.registry.logins import LoginSession, end_session, session_user, start_session
from dogtag.registry.passwords import MIN_LENGTH, common_passwords, password_problem
from dogtag.registry.users import (
    AuthenticationError,
    Role,
    User,
    add_user,
    authenticate,
    reset_password,
    set_active,
)


@pytest.mark.parametrize("password", [
    "x" * (MIN_LENGTH - 1), "short", "password12345678", "passwordpassword", "qwertyqwertyqwerty",
    "iloveyouiloveyou!!", "aaaaaaaaaaaaaaaaaaaa", "abcabcabcabcabcabc", "123456789012345678",
    "!!!!!!!!!!!!!!!!!!!!", "1q2w3e4r5t6y7u8i9o0p", "x" * 257, "good passphrase\x00 with nul"])
def test_weak_passwords_are_refused(password: str) -> None:
    assert password_problem(password) is not None


@pytest.mark.parametrize("password", ["correct horse battery staple", "rita-amber-lantern",
                                      "Ein Haus am See 1953", "x7#Lq9!mZ2@wR4$v", "é" * 3 + "mountain-river"])
def test_reasonable_passwords_pass(password: str) -> None:
    assert password_problem(password, username="rita") is None


def test_the_common_list_is_shipped_and_used() -> None:
    common = common_passwords()
    assert len(common) > 19_000 and "password" in common and "123456" in common
    long_ones = sorted(p for p in common if len(p) >= MIN_LENGTH)
    assert long_ones, "the list has entries as long as the minimum"
    for p in long_ones[:50]:  # every entry long enough to pass the length rule is still refused
        assert password_problem(p) is not None, p
    assert password_problem("ritaritarita1234", username="rita") is not None  # the user name, repeated
    assert password_problem("rita-amber-lanterns", username="rita") is None


def test_policy_applies_to_add_and_reset(engine: Engine) -> None:
    with session_scope(engine, "setup") as s:
        with pytest.raises(ValueError, match="at least 15 characters"):
            add_user(s, "bob", "bob-password", Role.REVIEWER)
        add_user(s, "bob", "bob-amber-lantern", Role.REVIEWER)
        with pytest.raises(ValueError, match="too common"):
            reset_password(s, "bob", "password123456789")


def test_unknown_and_known_users_cost_one_hash_each(engine: Engine, users: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    hasher = users_module._hasher
    real = hasher.verify

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(str(hash)[:9])
            return real(hash, password)

    monkeypatch.setattr(users_module, "_hasher", Counting(time_cost=1, memory_cost=1024, parallelism=1))
    with session_scope(engine, "setup") as s:
        set_active(s, "rob", False)
        s.add(User(username="system-x", role=Role.ANALYST, password_hash="!system account"))
    for name in ("ann", "nobody", "rob", "system-x", "bad name\x00", "x" * 500):
        calls.clear()
        with sessions(engine)() as s, pytest.raises(AuthenticationError, match="unknown user or wrong password"):
            authenticate(s, name, "wrong-password-guess")
        assert len([c for c in calls if c.startswith("$argon2")]) == 1, (name, calls)
    with sessions(engine)() as s:
        assert authenticate(s, "ann", "ann-amber-lantern").username == "ann"


def test_refusal_time_does_not_tell_whether_the_user_exists(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """With realistic Argon2id costs, an unknown name takes as long as a wrong password."""
    monkeypatch.setattr(users_module, "_hasher", PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1))
    with session_scope(engine, "setup") as s:
        add_user(s, "ann", "ann-amber-lantern", Role.ANALYST)

    def timed(name: str) -> float:
        t0 = time.perf_counter()
        with sessions(engine)() as s, pytest.raises(AuthenticationError):
            authenticate(s, name, "wrong-password-guess")
        return time.perf_counter() - t0

    timed("ann"), timed("nobody")  # warm up (the dummy hash is made once)
    known = statistics.median(timed("ann") for _ in range(5))
    unknown = statistics.median(timed("nobody") for _ in range(5))
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_login_sessions_end_on_logout_deactivation_and_reset(engine: Engine, users: None) -> None:
    with session_scope(engine, "setup") as s:
        ids = dict(s.execute(select(User.username, User.id)).all())
        t_ann = start_session(s, ids["ann"], lifetime_s=3600, address="10.0.0.1")
        t_ann2 = start_session(s, ids["ann"], lifetime_s=3600)
        t_rob = start_session(s, ids["rob"], lifetime_s=3600)
        t_rita = start_session(s, ids["rita"], lifetime_s=3600)
        t_old = start_session(s, ids["abe"], lifetime_s=-1)  # already expired
    with sessions(engine)() as s:
        assert s.scalar(select(func.count()).select_from(LoginSession)) == 5
        assert all(len(r) == 64 for r in s.scalars(select(LoginSession.token_hash)))  # hashes, not tokens
        assert t_ann not in set(s.scalars(select(LoginSession.token_hash)))
        su = session_user(s, t_ann)
        assert su is not None and (su.username, su.role) == ("ann", Role.ANALYST)
        assert session_user(s, t_old) is None and session_user(s, "forged") is None
        assert session_user(s, "") is None and session_user(s, "x" * 10_000) is None
    with session_scope(engine, "ada") as s:
        end_session(s, t_ann)
        set_active(s, "rob", False)
        reset_password(s, "rita", "rita-new-amber-lantern")
    with sessions(engine)() as s:
        assert session_user(s, t_ann) is None
        assert session_user(s, t_ann2) is not None  # another of ann's sessions lives on
        assert session_user(s, t_rob) is None and session_user(s, t_rita) is None
        assert authenticate(s, "rita", "rita-new-amber-lantern").username == "rita"
        with pytest.raises(AuthenticationError):
            authenticate(s, "rob", "rob-amber-lantern")
        # audited, without the password hash in clear
        audit = [(e.actor, e.action, e.table_name) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))
                 if e.table_name == "app_user" and e.action == "update"]
        assert ("ada", "update", "app_user") in audit
        logged = " ".join(f"{e.before} {e.after}" for e in s.scalars(select(AuditEntry)))
        assert "$argon2" not in logged and "[redacted sha256:" in logged


class _Result:
    def __init__(self, exit_code: int, output: str):
        self.exit_code, self.output = exit_code, output


def _run(*args: str, input: str | None = None) -> _Result:
    """The command's exit status and output, with a refusal (DogtagError) as `dogtag` shows it."""
    res = CliRunner().invoke(cli, list(args), input=input)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        return _Result(2, f"Error: {res.exception}")
    return _Result(res.exit_code, res.output)


def test_cli_user_commands(engine: Engine, users: None) -> None:
    url = engine.url.render_as_string(hide_password=False)
    res = _run("user", "add", "bob", "--role", "reviewer", "--password-stdin", "--database", url,
               input="bob-password\n")
    assert res.exit_code == 2 and "at least 15 characters" in res.output
    res = _run("user", "deactivate", "rita", "--as", "ann", "--database", url)
    assert res.exit_code == 2 and "managing users needs the role admin" in res.output
    with session_scope(engine, "setup") as s:
        rita_id = s.scalar(select(User.id).where(User.username == "rita"))
        assert rita_id is not None
        token = start_session(s, rita_id, lifetime_s=3600)
    res = _run("user", "deactivate", "rita", "--as", "ada", "--database", url)
    assert res.exit_code == 0, res.output
    with sessions(engine)() as s:
        assert session_user(s, token) is None
        assert s.scalar(select(User.active).where(User.username == "rita")) is False
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert last is not None and last.actor == "ada" and last.table_name == "app_user"
    res = _run("user", "list", "--json", "--database", url)
    import json

    rows = {r["username"]: r for r in json.loads(res.output)}
    assert rows["rita"]["active"] is False and rows["ann"]["active"] is True
    res = _run("user", "reset-password", "rita", "--password-stdin", "--database", url, input="password\n")
    assert res.exit_code == 2 and "at least 15" in res.output
    assert _run("user", "reset-password", "rita", "--password-stdin", "--database", url,
                input="rita-second-lantern\n").exit_code == 0
    assert _run("user", "activate", "rita", "--database", url).exit_code == 0
    with sessions(engine)() as s:
        assert authenticate(s, "rita", "rita-second-lantern").username == "rita"
    res = _run("user", "deactivate", "nobody", "--database", url)
    assert res.exit_code == 2 and "no user named 'nobody'" in res.output
