"""The admin surface, our own contract (Rocky's key minting is not Binance's), behind a token.

    POST /admin/v1/accounts {"name"}            → {"name", "apiKey", "secretKey"}
    POST /admin/v1/faucet   {"apiKey", "amount"} → {"apiKey", "asset", "balance"}
    GET/POST/DELETE /admin/v1/faults            → fault injection (faults.py)

Header `X-Admin-Token`; wrong or missing → 401. Errors use Binance's body shape so one client
error path handles everything. Minting a name that exists issues an *additional* key pair for
that same account (balance and positions kept), so re-running `rocky-bot mint --force` against a
running sandbox works and keys handed out earlier stay valid.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

import structlog
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.faults import FaultInjector
from rocky_bot.sandbox.grid import fmt_money, to_money
from rocky_bot.sandbox.numbers import parse_decimal
from rocky_bot.sandbox.rest_gateway import error_response, json_response
from rocky_bot.sandbox.signing import KeyStore

log = structlog.get_logger()


class NewAccount(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")


def _strict_amount(value: object) -> Decimal:
    """An amount read the one strict way (numbers.py): ASCII digits, no exponent, ≤ 20 decimals.

    Plain `Decimal` would take `١٢`, `1_0` or `1E+999999` (which then overflows the ledger).
    """
    if isinstance(value, float):
        value = repr(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("not a decimal")  # pydantic turns ValueError into its error
    try:
        return parse_decimal(value, "amount")
    except SandboxError:
        raise ValueError("not a decimal") from None


class Faucet(BaseModel):
    apiKey: str = Field(min_length=1)  # the contract's field name
    amount: Annotated[Decimal, BeforeValidator(_strict_amount)] = Field(
        gt=0, le=Decimal("1000000000")
    )


def token_checker(admin_token: str) -> Callable[[Request], bool]:
    """True for a request carrying the admin token (compared in constant time)."""

    def authorized(request: Request) -> bool:
        given = request.headers.get("X-Admin-Token", "")
        return hmac.compare_digest(given.encode(), admin_token.encode())

    return authorized


def unauthorized() -> Response:
    return error_response(SandboxError(-2015, "Invalid admin token.", 401))


def routes(engine: Engine, keys: KeyStore, admin_token: str) -> list[Route]:
    authorized = token_checker(admin_token)

    async def parse(request: Request, model: type[BaseModel]) -> BaseModel:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"]) or "body"
            raise SandboxError(-1130, f"Invalid data sent for: {fields}.") from None

    async def create_account(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        try:
            body = await parse(request, NewAccount)
        except SandboxError as err:
            return error_response(err)
        assert isinstance(body, NewAccount)
        engine.open_account(body.name)
        api_key, secret = keys.mint(body.name)
        log.info("account_minted", account=body.name)
        return json_response({"name": body.name, "apiKey": api_key, "secretKey": secret})

    async def faucet(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        try:
            body = await parse(request, Faucet)
            assert isinstance(body, Faucet)
            cred = keys.get(body.apiKey)
            if cred is None:
                raise SandboxError(-2015, "Invalid API-key, IP, or permissions for action.", 400)
            balance = engine.credit(cred.account, body.amount)
        except SandboxError as err:
            return error_response(err)
        log.info("account_funded", account=cred.account, amount=str(body.amount))
        return json_response(
            {"apiKey": body.apiKey, "asset": engine.asset, "balance": fmt_money(to_money(balance))}
        )

    return [
        Route("/admin/v1/accounts", create_account, methods=["POST"]),
        Route("/admin/v1/faucet", faucet, methods=["POST"]),
    ]


def fault_routes(injector: FaultInjector, admin_token: str) -> list[Route]:
    authorized = token_checker(admin_token)

    async def faults(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        if request.method == "GET":
            return json_response(injector.snapshot())
        if request.method == "DELETE":
            return json_response(await injector.clear())
        try:
            raw = await request.json()
            if not isinstance(raw, dict):
                raise ValueError("not an object")
            return json_response(await injector.apply(**raw))
        except ValidationError as exc:
            names = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"]) or "body"
            return error_response(SandboxError(-1130, f"Invalid data sent for: {names}."))
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser
            return error_response(SandboxError(-1130, "Invalid data sent for: body."))

    return [Route("/admin/v1/faults", faults, methods=["GET", "POST", "DELETE"])]
