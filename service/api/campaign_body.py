"""The optional settings of a new campaign, read from its JSON body."""
from .errors import invalid
from .values import read_datetime
from .values import read_id


def campaign_options(body: dict) -> dict:
    """Keyword arguments for campaigns.create_campaign beyond the required ones; absent means default."""
    options = {}
    if body.get("opens_at") is not None:
        options["opens_at"] = read_datetime(body["opens_at"], "opens_at")
    if body.get("group_ids") is not None:
        options["group_ids"] = [read_id(group_id, "group_ids") for group_id in _list(body, "group_ids")]
    if body.get("channels") is not None:
        options["channels"] = [_code(value, "channels") for value in _list(body, "channels")]
    if body.get("languages") is not None:
        # Case is kept: create_campaign normalises language codes ("fa_AF").
        options["languages"] = [_code(value, "languages", lower=False) for value in _list(body, "languages")]
    if body.get("incomplete_policy") is not None:
        options["incomplete_policy"] = _code(body["incomplete_policy"], "incomplete_policy")
    if body.get("small_group") is not None:
        value = body["small_group"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid("small_group must be a whole number", field="small_group")
        options["small_group"] = value
    return options


def _list(body: dict, name: str) -> list:
    value = body[name]
    if not isinstance(value, list):
        raise invalid(f"{name} must be a list", field=name)
    return value


def _code(value, name: str, lower: bool = True) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{name} must hold short codes such as sms or nb", field=name)
    return value.strip().lower() if lower else value.strip()
