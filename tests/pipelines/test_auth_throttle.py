"""Login throttling under concurrency, on both stores: however many wrong passwords arrive at once (threads,
processes), at most ``max_failed_logins`` of them reach the argon2 check, and the stored count is the
number of failures. Names without an account get the same answers after the same number of attempts."""

from __future__ import annotations

import multiprocessing
import threading

import pandas as pd
import pytest

from pipelines import auth
from pipelines.settings import SETTINGS
from pipelines.store import open_store

PASSWORD = "correct horse battery staple"
GUESS = "not the password"


def _account(store, username: str = "ana") -> str:
    """A planner account written straight to the store (the admin path is tested in test_auth.py)."""
    now = pd.Timestamp.now(tz="UTC")
    row = {
        "username": username, "role": "planner", "org": None, "password_hash": auth.hash_password(PASSWORD),
        "disabled": False, "failed_logins": 0, "last_failed_at": pd.NaT, "created_at": now, "updated_at": now,
    }  # fmt: skip
    store.save(users=pd.DataFrame([row]))
    return username


@pytest.fixture
def verified(monkeypatch) -> list[str]:
    """Every password check :func:`auth.authenticate` makes, as it makes it (thread-safe)."""
    calls: list[str] = []
    lock = threading.Lock()
    check = auth.verify_password

    def counting(password_hash, password):
        with lock:
            calls.append(password)
        return check(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    return calls


def _outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "logged in"
    if isinstance(exc, auth.ThrottledError):
        return "throttled"
    return "wrong" if isinstance(exc, auth.AuthError) else repr(exc)


def _at_once(store, username: str, attempts: int) -> list[str]:
    """``attempts`` wrong passwords for ``username`` from as many threads, released together."""
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            auth.authenticate(store, username, GUESS)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            outcomes.append(_outcome(exc))
        else:
            outcomes.append(_outcome(None))

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return sorted(outcomes)


def _expected(attempts: int) -> list[str]:
    """The 1st to 4th failures say "wrong"; the 5th fails and throttles; the rest wait unchecked."""
    n = SETTINGS.max_failed_logins
    return sorted(["wrong"] * (n - 1) + ["throttled"] * (attempts - n + 1))


def _stored_count(store, username: str) -> int:
    return int(store.read_table("users", where={"username": username})["failed_logins"].iloc[0])


@pytest.mark.parametrize("attempts", [10, 50])
def test_simultaneous_wrong_passwords_from_threads_check_at_most_the_limit(any_store, verified, attempts):
    username = _account(any_store)
    outcomes = _at_once(any_store, username, attempts)
    assert len(verified) == SETTINGS.max_failed_logins, f"{len(verified)} of {attempts} guesses were checked"
    assert outcomes == _expected(attempts)
    assert _stored_count(any_store, username) == SETTINGS.max_failed_logins
    with pytest.raises(auth.ThrottledError, match=r"try again in \d+ s"):  # even the right password waits
        auth.authenticate(any_store, username, PASSWORD)
    assert len(verified) == SETTINGS.max_failed_logins


def test_simultaneous_guesses_for_an_unknown_name_are_counted_the_same(any_store, verified):
    outcomes = _at_once(any_store, "nobody", 10)
    assert len(verified) == SETTINGS.max_failed_logins and outcomes == _expected(10)
    stored = any_store.read_table("login_failures")
    assert stored["failed_logins"].tolist() == [SETTINGS.max_failed_logins]
    key = stored["name_key"].iloc[0]
    assert len(key) == 64 and "nobody" not in key  # a salted hash, never the typed name


def _guess_in_process(url: str, username: str, barrier, results) -> None:
    """One replica's wrong guess (run in a process of its own): reports the outcome and how many
    passwords this process checked."""
    checked = []
    check = auth.verify_password

    def counting(password_hash, password):
        checked.append(password)
        return check(password_hash, password)

    auth.verify_password = counting
    store = open_store(url)
    try:
        store.read_table("users")  # connect before the start line
        barrier.wait()
        try:
            auth.authenticate(store, username, GUESS)
            outcome = _outcome(None)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome = _outcome(exc)
        results.put((outcome, len(checked)))
    finally:
        store.close()


def test_simultaneous_wrong_passwords_from_processes_check_at_most_the_limit(any_store):
    username = _account(any_store)
    attempts = 10
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters, as separate replicas are
    barrier, results = ctx.Barrier(attempts), ctx.Queue()
    processes = [
        ctx.Process(target=_guess_in_process, args=(any_store.url, username, barrier, results)) for _ in range(attempts)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * attempts
    assert sum(checked for _, checked in reports) == SETTINGS.max_failed_logins
    assert sorted(outcome for outcome, _ in reports) == _expected(attempts)
    assert _stored_count(any_store, username) == SETTINGS.max_failed_logins


def _answers(store, username: str, start: pd.Timestamp) -> list[tuple]:
    """What seven wrong attempts, a second apart, get back: exception type, message (the name
    replaced by NAME), ``retry_after``."""
    answers = []
    for second in range(7):
        with pytest.raises(auth.AuthError) as caught:
            auth.authenticate(store, username, GUESS, now=start + pd.Timedelta(seconds=second))
        message = str(caught.value).replace(repr(username), "NAME")
        answers.append((type(caught.value).__name__, message, getattr(caught.value, "retry_after", None)))
    return answers


def test_unknown_names_get_the_same_answers_as_accounts(any_store, verified):
    start = pd.Timestamp("2026-11-21T09:00:00Z")
    known = _answers(any_store, _account(any_store, "thandi"), start)
    checked_known = len(verified)
    unknown = _answers(any_store, "thandi2", start)
    assert unknown == known
    assert len(verified) - checked_known == checked_known == SETTINGS.max_failed_logins  # same argon2 work
    assert known[-1] == ("ThrottledError", "too many failed logins for NAME; try again in 28 s", 28)
    # after the wait both go ahead again (and fail again, with a doubled wait)
    later = start + pd.Timedelta(seconds=4 + 30)
    for name in ("thandi", "thandi2"):
        with pytest.raises(auth.ThrottledError) as caught:
            auth.authenticate(any_store, name, GUESS, now=later)
        assert caught.value.retry_after == 60


def test_the_right_password_clears_the_count_and_is_checked_once(any_store, verified):
    username = _account(any_store)
    for _ in range(SETTINGS.max_failed_logins - 1):
        with pytest.raises(auth.AuthError):
            auth.authenticate(any_store, username, GUESS)
    assert _stored_count(any_store, username) == SETTINGS.max_failed_logins - 1
    assert auth.authenticate(any_store, username, PASSWORD).viewer.username == username
    assert _stored_count(any_store, username) == 0
    assert len(verified) == SETTINGS.max_failed_logins
