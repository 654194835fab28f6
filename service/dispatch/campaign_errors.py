"""Why a campaign cannot do what was asked, in words for the person who asked."""


class CampaignError(ValueError):
    """A request the campaign cannot honour; the message says why, for the user."""


class CampaignStateError(CampaignError):
    """The campaign is in the wrong status for this (draft, scheduled, open, closed)."""
