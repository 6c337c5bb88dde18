"""What storage logs would cost in each Log Analytics plan: billed volumes priced with a price book.

Plain numbers in, plain numbers out (no Django): storage_logs/volumes.py measures the volumes and
storage_logs/pricebook.py reads the prices. The rules, with their sources in docs/log-pricing.md:
- Ingestion is billed per GB (10^9 bytes, or what LOG_ANALYTICS_MB_PER_GB says) of billed size
  (storage_logs/billing.py); Auxiliary rows bill four standard columns more, and Auxiliary also charges
  data processing on what enters the data collection rule (the file's or the export's bytes).
- A commitment tier bills max(volume, tier) at the tier's own rate per GB (overage at the same rate).
- Retention: the ingestion price includes some days (Analytics 31, Basic and Auxiliary 30); Analytics keeps
  more days interactive at the interactive price, up to two years; beyond that, and for Basic and
  Auxiliary beyond their 30 days, the long-term price. The steady-state volume kept beyond the included
  days is GB per day times those days; each GB kept costs its price per month.
- A year is LOG_ANALYTICS_DAYS_PER_YEAR days of ingestion (365; the seed's table used 356), a month a
  twelfth of it.
"""

from dataclasses import dataclass, field
from datetime import date

ANALYTICS_INTERACTIVE_MAX_DAYS = 730  # data-retention-configure.md: Analytics retention up to two years
DEFAULT_RETENTION_DAYS = 90  # an account keeping its logs without a limit: the window the page draws
MONTHS = 12

ANALYTICS, COMMITMENT, BASIC, AUXILIARY = "analytics", "commitment", "basic", "auxiliary"


@dataclass(frozen=True)
class Rate:
    """One price as a number, with its facts."""

    item: str
    amount: float
    included_days: int = 0
    tier_gb: int = 0
    effective_from: date | None = None
    source: str = ""
    note: str = ""

    @property
    def per_gb(self):
        return self.amount / self.tier_gb if self.tier_gb else self.amount


@dataclass(frozen=True)
class Book:
    """The prices of one list on one day, and the conventions that turn bytes into money."""

    name: str
    region: str
    currency: str
    on: date
    rates: dict  # item -> Rate
    tiers: tuple = ()  # Rate per commitment tier, smallest first
    bytes_per_gb: int = 10**9
    bytes_per_mb: int = 10**6
    days_per_year: float = 365
    price_list_id: int | None = None

    def rate(self, item):
        return self.rates.get(item)

    @property
    def gb_label(self):
        if self.bytes_per_gb == 10**9:
            return "GB of 10^9 bytes, as Microsoft bills them"
        return f"GB of {self.bytes_per_gb:,} bytes (LOG_ANALYTICS_MB_PER_GB; Microsoft bills 10^9 bytes)"


@dataclass(frozen=True)
class Stream:
    """One kind of an account's logs on an average day: its raw lines, or their aggregates."""

    billed: float = 0  # bytes Analytics and Basic would bill
    incoming: float = 0  # bytes entering a data collection rule: the file's or the export's
    rows: float = 0
    row_overhead: int = 0  # bytes each Auxiliary row bills on top (billing.auxiliary_row_overhead)

    def gb(self, book, plan=ANALYTICS):
        billed = self.billed + (self.rows * self.row_overhead if plan == AUXILIARY else 0)
        return billed / book.bytes_per_gb


@dataclass(frozen=True)
class AccountVolume:
    """An account's average billed day over the days measured, and how long its logs are kept."""

    account_id: int
    name: str
    raw: Stream
    aggregated: Stream
    days: int  # days averaged
    retention_days: int
    retention_set: bool = True  # False: the account sets no limit and DEFAULT_RETENTION_DAYS is assumed
    estimated_days: int = 0  # days stored before billed sizes were recorded (counted at file size)

    @property
    def reduction(self):
        return reduction(self.raw.billed, self.aggregated.billed)


@dataclass(frozen=True)
class Cost:
    """Money per month and per year: ingestion, retention and both."""

    ingestion_year: float
    retention_month: float
    note: str = ""
    shared: bool = False  # priced at a tier's rate that only a workspace already filling it gets

    @property
    def ingestion_month(self):
        return self.ingestion_year / MONTHS

    @property
    def retention_year(self):
        return self.retention_month * MONTHS

    @property
    def total_month(self):
        return self.ingestion_month + self.retention_month

    @property
    def total_year(self):
        return self.ingestion_year + self.retention_year


def reduction(raw, aggregated):
    """Percent saved by aggregating, or None when there is nothing raw to compare with."""
    return (1 - aggregated / raw) * 100 if raw else None


def ingestion_per_day(plan, streams, book):
    """Money per day to ingest the streams in a plan (None: the price book lacks a price it needs)."""
    if plan == ANALYTICS:
        rate = book.rate("analytics_ingestion")
        return rate and sum(s.gb(book) for s in streams) * rate.amount
    if plan == BASIC:
        rate = book.rate("basic_ingestion")
        return rate and sum(s.gb(book) for s in streams) * rate.amount
    ingestion, processing = book.rate("auxiliary_ingestion"), book.rate("auxiliary_processing")
    if not ingestion:
        return None
    incoming = sum(s.incoming for s in streams) / book.bytes_per_gb
    return sum(s.gb(book, AUXILIARY) for s in streams) * ingestion.amount + incoming * (
        processing.amount if processing else 0
    )


def retention_per_month(plan, gb_per_day, retention_days, book):
    """Money per month to keep `retention_days` of a daily volume beyond what ingestion includes."""
    included = included_days(plan, book)
    long_term = book.rate("long_term_retention")
    if plan in (ANALYTICS, COMMITMENT):
        interactive = book.rate("interactive_retention")
        interactive_days = max(0, min(retention_days, ANALYTICS_INTERACTIVE_MAX_DAYS) - included)
        long_days = max(0, retention_days - max(ANALYTICS_INTERACTIVE_MAX_DAYS, included))
    else:
        interactive, interactive_days = None, 0
        long_days = max(0, retention_days - included)
    if (interactive_days and not interactive) or (long_days and not long_term):
        return None
    return gb_per_day * (
        interactive_days * (interactive.amount if interactive else 0)
        + long_days * (long_term.amount if long_term else 0)
    )


def included_days(plan, book):
    item = {ANALYTICS: "analytics_ingestion", BASIC: "basic_ingestion", AUXILIARY: "auxiliary_ingestion"}
    if plan == COMMITMENT:
        return book.tiers[0].included_days if book.tiers else 0
    rate = book.rate(item[plan])
    return rate.included_days if rate else 0


def best_tier(gb_per_day, book):
    """The commitment tier that costs least for this volume on its own (overage at its rate)."""
    return min(book.tiers, key=lambda t: max(gb_per_day, t.tier_gb) * t.per_gb, default=None)


def commitment_per_day(streams, book):
    """(money per day, note, shared) in a commitment tier. When no tier pays for these logs on their own
    (pay-as-you-go is cheaper), they are priced at the smallest tier's rate, as in a workspace whose other
    data already fills it: what they add to a customer's bill there."""
    volume = sum(s.gb(book) for s in streams)
    tier = best_tier(volume, book)
    if tier is None:
        return None, "", False
    alone = max(volume, tier.tier_gb) * tier.per_gb
    payg = ingestion_per_day(ANALYTICS, streams, book)
    if payg is not None and alone > payg:
        tier = book.tiers[0]
        return (
            volume * tier.per_gb,
            f"{tier_text(tier, book)}, in a workspace whose other data fills it",
            True,
        )
    return alone, tier_text(tier, book) + (", with overage" if volume > tier.tier_gb else ""), False


def tier_text(tier, book):
    return f"{tier.tier_gb:,} GB/day tier at {tier.per_gb:.2f} {book.currency} per GB"


def plan_cost(plan, accounts, book, which):
    """Cost of one kind of logs (`which`: "raw" or "aggregated") of the accounts in a plan, or None."""
    streams = [getattr(a, which) for a in accounts]
    note, shared = "", False
    if plan == COMMITMENT:
        per_day, note, shared = commitment_per_day(streams, book)
    else:
        per_day = ingestion_per_day(plan, streams, book)
    if per_day is None:
        return None
    retention = 0
    for account, stream in zip(accounts, streams, strict=True):
        kept = retention_per_month(plan, stream.gb(book, plan), account.retention_days, book)
        if kept is None:
            return None
        retention += kept
    return Cost(per_day * book.days_per_year, retention, note, shared)


@dataclass(frozen=True)
class PlanRow:
    """A plan's cost for the raw lines and for their aggregates, and its limits in one line."""

    key: str
    name: str
    limits: str
    raw: Cost | None
    aggregated: Cost | None

    @property
    def reduction(self):
        if self.raw is None or self.aggregated is None:
            return None
        return reduction(self.raw.total_year, self.aggregated.total_year)

    @property
    def note(self):
        """How the plan was priced for these logs (a commitment tier's choice), said once when both agree."""
        notes = {kind: cost.note for kind, cost in (("raw", self.raw), ("aggregated", self.aggregated))
                 if cost and cost.note}  # fmt: skip
        if len(set(notes.values())) == 1:
            return next(iter(notes.values()))
        return "; ".join(f"{kind}: {note}" for kind, note in notes.items())


@dataclass(frozen=True)
class Option:
    """One way to keep the logs: where the aggregates go, where the raw lines go, and the yearly cost."""

    label: str
    year: float | None
    keeps_raw: bool  # raw lines searchable in Log Analytics for investigations
    cheapest: bool = False


@dataclass
class Report:
    """A scope's plan rows and ways to keep its logs, with what they were computed from."""

    accounts: list
    plans: list = field(default_factory=list)
    options: list = field(default_factory=list)

    @property
    def recommended(self):
        return next((o for o in self.options if o.cheapest), None)


def report(accounts, book, plans):
    """Price the accounts' average day in every plan and every way of keeping them."""
    rows = [
        PlanRow(key, name, limits, *(plan_cost(key, accounts, book, kind) for kind in ("raw", "aggregated")))
        for key, name, limits in plans
    ]
    return Report(accounts, rows, keeping_options({row.key: row for row in rows}))


def keeping_options(rows):
    """Aggregates in Analytics (pay-as-you-go, or a tier when cheaper on its own) with the raw lines in
    each plan, against keeping only raw lines in Analytics as before. The cheapest option that keeps the
    raw lines searchable is the recommendation."""
    analytics = [rows[k] for k in (ANALYTICS, COMMITMENT) if k in rows]

    def cheapest(kind):  # what the logs cost on their own, not at a rate only a fuller workspace gets
        costs = [getattr(row, kind) for row in analytics]
        years = [c.total_year for c in costs if c and not c.shared]
        return min(years) if years else None

    aggregates, raw_analytics = cheapest("aggregated"), cheapest("raw")

    def plus(raw_row):
        if aggregates is None or raw_row is None or raw_row.raw is None:
            return None
        return aggregates + raw_row.raw.total_year

    options = [
        Option("Raw logs in Analytics (no aggregates)", raw_analytics, True),
        Option("Aggregates in Analytics, raw logs in Basic", plus(rows.get(BASIC)), True),
        Option("Aggregates in Analytics, raw logs in Auxiliary / data lake", plus(rows.get(AUXILIARY)), True),
        Option("Aggregates in Analytics, raw logs only in the storage account", aggregates, False),
    ]
    priced = [o for o in options if o.keeps_raw and o.year is not None]
    best = min(priced, key=lambda o: o.year, default=None)
    return [Option(o.label, o.year, o.keeps_raw, o is best) for o in options]
