"""The HTTP transport every wrapper's SDK client sends through: each request takes a slot in its tenant's
shared budget (budget.py), and a 429 pauses that tenant for as long as Azure said.

ARM clients retry 429 themselves, waiting Retry-After (azure-core's RetryPolicy); here the pause is only
recorded, so the tenant's other workers hold off too. The blob SDK does not retry 429 at all: for blob
clients (`retry_throttled`) this transport waits as the answer says (Retry-After in seconds or
x-ms-retry-after-ms) and sends again, up to settings.AZURE_RETRY_TOTAL times.
"""

from azure.core.pipeline.transport import RequestsTransport
from django.conf import settings

from ascmon.azure import budget
from ascmon.azure.translate import retry_after

DEFAULT_WAIT = 1.0  # a 429 that names no time


class BudgetTransport(RequestsTransport):
    def __init__(self, budget_key, *, retry_throttled=False, **kwargs):
        """`budget_key`: the budget's key, or a callable giving it (None: no budget)."""
        super().__init__(**kwargs)
        self.budget_key = budget_key
        self.retry_throttled = retry_throttled

    def send(self, request, **kwargs):
        key = self.budget_key() if callable(self.budget_key) else self.budget_key
        retries = settings.AZURE_RETRY_TOTAL if self.retry_throttled else 0
        for attempt in range(retries + 1):
            budget.acquire(key)
            response = super().send(request, **kwargs)
            if response.status_code != 429:
                return response
            wait = retry_after(response)
            wait = DEFAULT_WAIT if wait is None else wait
            budget.pause(key, wait)
            if attempt == retries or wait > settings.AZURE_MAX_WAIT_SECONDS:
                return response
            _discard(response)
            if key is None:
                budget.sleep(wait)  # no shared budget to wait on: wait here
        return response


def _discard(response):
    internal = getattr(response, "internal_response", None)
    if internal is not None:
        internal.close()
