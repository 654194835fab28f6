"""Jobs that move the pool to the answer side at a release (service/answer_side/releases.py) and warm the results after it."""
from service.answer_side import results_cache
from service.infra import runtime as runtimes
from service.models import Campaign
from service.infra.queue import after_commit
from service.answer_side.releases import release
from service.surveys import survey_of


def release_pool(campaign_id: int) -> int:
    """Job: release the campaign's pool if a release is due (closed, or an interim request now met); how many sets."""
    runtime = runtimes.current()
    with runtime.transaction() as session:
        written = release(session, runtime, campaign_id)
        if written:
            # Readers keep the previous table until warm_results has computed the new one.
            results_cache.mark_warming(runtime, campaign_id)
            after_commit(session, warm_results, campaign_id)
    return written


def warm_results(campaign_id: int):
    """Job: compute the campaign's protected results for its current responses, so no reader waits for them."""
    runtime = runtimes.current()
    config = runtime.config
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return
        offered = survey_of(campaign.survey_version).languages
        languages = [language for language in dict.fromkeys([campaign.default_language, *(campaign.languages or [])])
                     if language in offered]
        results_cache.warm(session, runtime, campaign, languages, min_cell=config.min_cell, min_comments=config.min_comments)
