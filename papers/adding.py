"""Adding papers by id from a web request: answer at once, fetch from arXiv in the background.

arXiv is never called inside a web request (a slow arXiv would hold a web
worker for minutes). ``request_papers`` answers from the database for the
papers we already have, and queues one HarvestRun (kind "fetch", status
"queued") for the rest, fetched by ``papers.tasks.fetch_papers`` on the
``arxiv`` queue. The caller shows the run, whose status moves to running and
then succeeded, partial or failed. In the embedded mode (no broker) tasks run
in-process, so the run has already ended when this returns.

It lives apart from papers.harvest because it enqueues a task, and the tasks
module builds on papers.harvest.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from curation.queue import QueueUnavailable, enqueue

from . import tasks
from .harvest import MAX_IDS, create_fetch_run, may_add_papers, parse_inputs
from .models import HarvestRun, Paper

log = logging.getLogger(__name__)

QUEUE_DOWN = "Task queue unavailable; try again in a minute."


def request_papers(texts, *, by):
    """(results, run): an answer for every input now, and the queued fetch run or None.

    ``results`` has one dict per non-blank input: ``input``, ``arxiv_id``,
    ``status`` and ``message``. Status is ``known`` (we have the paper: nothing
    is fetched), ``queued`` (run ``run`` fetches it) or ``error`` (not an arXiv
    id, or the queue is down). ``run`` is None when nothing needs fetching; when
    the task queue (Redis) is down it comes back failed with the reason, and
    the queued inputs are errors saying so.

    Call it outside a transaction: the worker must see the run it is given.
    Raises PermissionDenied for anyone but curators and editors, ValueError
    for more than MAX_IDS inputs.
    """
    if not may_add_papers(by):
        raise PermissionDenied("Only editors and curators may add papers.")
    texts = [t for t in texts if (t or "").strip()]
    if len(texts) > MAX_IDS:
        raise ValueError(f"At most {MAX_IDS} ids at once.")
    results, wanted = parse_inputs(texts)
    known = dict(Paper.objects.filter(arxiv_id__in=list(wanted)).values_list("arxiv_id", "version"))
    for arxiv_id, version in known.items():
        for entry in wanted.pop(arxiv_id):
            entry["status"] = "known"
            entry["message"] = f"{arxiv_id}: already here (version {version}); nothing to fetch."
    if not wanted:
        return results, None
    run = create_fetch_run(list(wanted), by=by, status=HarvestRun.Status.QUEUED)
    try:
        enqueue(tasks.fetch_papers, run.pk)
    except QueueUnavailable:
        HarvestRun.objects.filter(pk=run.pk).update(
            status=HarvestRun.Status.FAILED, error=QUEUE_DOWN, finished_at=timezone.now()
        )
        status, message = "error", f"{{}}: not fetched. {QUEUE_DOWN}"
    else:
        status, message = "queued", f"{{}}: being fetched from arXiv (harvest run #{run.pk})."
    for arxiv_id, entries in wanted.items():
        for entry in entries:
            entry["status"] = "queued" if status == "queued" else "error"
            entry["message"] = message.format(arxiv_id)
    run.refresh_from_db()
    return results, run
