"""Proof that an aggregate's raw lines, read again from the customer's blobs, add up to it (count and
bytes). A large aggregate is read by a django-q2 worker: `prove(proof_id)` is safe to run twice or at once
(the run is claimed), and a run that never started or whose worker died is closed as failed when next asked
about, so every run ends in a final state."""

from django.conf import settings
from django.utils import timezone

from storage_logs import evidence
from storage_logs.models import EvidenceProof, LogAggregate

LOST = "Its task was lost or its worker stopped; ask again."


def close_lost(aggregate):
    """Runs queued or running for longer than a worker may take end as failed."""
    timeout = timezone.now() - settings.STORAGE_LOGS_RUN_TIMEOUT
    aggregate.proofs.filter(status__in=EvidenceProof.OPEN, started_at__lt=timeout).update(
        status=EvidenceProof.FAILED, finished_at=timezone.now(), message=LOST
    )


def latest(aggregate):
    close_lost(aggregate)
    return aggregate.proofs.first()


def queue(aggregate, user):
    """The open run of the aggregate, or a new queued one."""
    close_lost(aggregate)
    open_run = aggregate.proofs.filter(status__in=EvidenceProof.OPEN).first()
    return open_run or EvidenceProof.objects.create(aggregate=aggregate, requested_by=user)


def prove(proof_id):
    """Read the aggregate's lines and record whether they add up. Returns the final status."""
    claimed = EvidenceProof.objects.filter(pk=proof_id, status=EvidenceProof.QUEUED).update(
        status=EvidenceProof.RUNNING, started_at=timezone.now()
    )
    run = EvidenceProof.objects.filter(pk=proof_id).first()
    if run is None or not claimed:
        return run.status if run else None  # ran already, or is running elsewhere
    aggregate = LogAggregate.objects.select_related("account").filter(pk=run.aggregate_id).first()
    if aggregate is None:
        return _finish(run, EvidenceProof.FAILED, message="The aggregate is gone.")
    run.aggregate = aggregate
    try:
        tally = evidence.tally(evidence.lines_of(aggregate))
    except evidence.Unfetchable as error:
        return _finish(run, EvidenceProof.UNFETCHABLE, message=error.reason)
    except Exception as error:
        _finish(run, EvidenceProof.FAILED, message=f"{type(error).__name__}: {error}")
        raise
    status = EvidenceProof.OK if tally.matches(run.aggregate) else EvidenceProof.DIFFER
    return _finish(
        run, status, lines=tally.lines, request_bytes=tally.request_bytes, response_bytes=tally.response_bytes
    )


def _finish(run, status, **fields):
    EvidenceProof.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), **{"message": "", **fields}
    )
    return status
