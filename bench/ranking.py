"""Ranking quality on real data, replayed week by week, and the ranker's speed.

Quality: /work/shared/ranking-data (override with RANKING_DATA) holds every new
cs.LG/CL/CV/AI paper per arXiv listing day and real human picks. Time is
replayed in order; for each week the ranker is trained only on what was known
before the week began — picks of earlier weeks, papers listed earlier (the
ones nobody picked are unlabelled negatives) — and ranks the week's pool:

* Hugging Face daily papers, 2025-W22..W37: targets = week w's HF picks,
  pool = papers listed in week w.
* dair-ai weekly top-10, 2025-W19..W26: targets = week w's picks, pool =
  papers listed in weeks w-1 and w, training on both sources' earlier picks.

Papers already picked before the week are left out of the pool, as the queue
leaves them out. Reported per protocol, as the mean over weeks: recall@5%
(share of the picks in the top 5 % of the pool), recall@50, and the median
percentile rank of the picks, for our ranker (triage/ranking.py, the very
code the app runs), random order, recency order and arxiv-sanity's recipe
(tf-idf uni+bigrams, LinearSVC(C=0.01, class_weight="balanced")).

Training sets are built as the app builds them: every labelled paper and the
newest MAX_UNLABELLED (40,000) unlabelled ones. Papers become Docs as the app
makes them: the arXiv comment of the listing (read from the raw daily crawls
in raw/, which candidates.jsonl.gz leaves out) is part of the text, and the code
link is found in abstract + comment by papers.links.detect_links, as a harvest
does.

Speed: a 200,000-paper history (fit as the app fits it: all labelled papers +
the newest 40,000 unlabelled) and a rescore (score + explanations) of 20,000,
papers sampled from the real candidates with shuffled words so they differ.
RANKING_BENCH_WEEKS=3 (or RANKING_BENCH_STEP=2), RANKING_SPEED_FIT and
RANKING_SPEED_PAPERS shrink the run.
"""

import gzip
import json
import os
import tarfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from papers.links import detect_links
from papers.models import normalize_author_name
from triage.ranking import (
    MAX_UNLABELLED,
    WEIGHT_PICK,
    WEIGHT_SHORTLIST,
    WEIGHT_UNLABELLED,
    Doc,
    Ranker,
    _count_matrix,
    newest_unlabelled,
)

DATA = Path(os.environ.get("RANKING_DATA", "/work/shared/ranking-data"))
HF = "huggingface-daily-papers (deep-diver/hf-daily-paper-newsletter)"
DAIR = "dair-ai/ML-Papers-of-the-Week"
PROTOCOLS = {
    # name: (target source, weeks, pool weeks back, training sources)
    "HF daily papers": (HF, range(22, 38), 0, (HF,)),
    "dair-ai top-10": (DAIR, range(19, 27), 1, (HF, DAIR)),
}
TARGET_RECALL, TARGET_MEDIAN = 0.50, 0.05


def week_start(period):
    year, week = period.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def load():
    if not (DATA / "candidates.jsonl.gz").exists() or not (DATA / "picks.jsonl").exists():
        raise SystemExit(
            f"bench.ranking needs the ranking data in {DATA} (candidates.jsonl.gz and picks.jsonl); "
            "set RANKING_DATA to its folder."
        )
    with gzip.open(DATA / "candidates.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    with open(DATA / "picks.jsonl") as f:
        picks = [json.loads(line) for line in f]
    comments = listing_comments()
    for row in rows:
        row["comment"] = comments.get(row["arxiv_id"], "")
    return rows, picks


def listing_comments():
    """arxiv id -> the arXiv comment of its first listing, from the raw daily crawls.

    candidates.jsonl.gz was derived from raw/ without the comment; a harvest
    stores it (whitespace collapsed), so the replay reads it back from there.
    """
    daily = {}
    for archive in sorted((DATA / "raw").glob("*daily-arXiv*.tar.xz")):
        with tarfile.open(archive, "r:xz") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".jsonl"):
                    daily[Path(member.name).name] = tar.extractfile(member).read()
    if not daily:
        print(f"    no raw daily crawls in {DATA / 'raw'}: papers have no comments", flush=True)
    comments = {}
    for name in sorted(daily):  # data/YYYY-MM-DD.jsonl: the first listing wins
        for line in daily[name].splitlines():
            record = json.loads(line)
            comments.setdefault(record["id"], " ".join((record.get("comment") or "").split()))
    return comments


def to_doc(row):
    comment = row.get("comment", "")
    code_url, _project_url = detect_links(row["abstract"], comment)
    return Doc(
        title=row["title"],
        abstract=row["abstract"],
        authors=tuple(normalize_author_name(a) for a in row["authors"]),
        categories=tuple(row["categories"]),
        day=date.fromisoformat(row["date"]),
        has_code=bool(code_url),
        comment=comment,
    )


def metrics(scores, targets):
    """recall@5%, recall@50 and the median percentile of the targets (0 = top)."""
    n = len(scores)
    order = np.argsort(-np.asarray(scores), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ranks = rank[targets]
    top = max(1, int(np.ceil(0.05 * n)))
    return {
        "recall@5%": float(np.mean(ranks < top)),
        "recall@50": float(np.mean(ranks < 50)),
        "median percentile": float(np.median((ranks + 0.5) / n)),
    }


def sanity_counts(texts):
    """Term counts for arxiv-sanity's tf-idf (uni+bigrams), computed once for all weeks.

    The vocabulary is every term of the data set, but a term weighs nothing
    until it appears in two training papers and its idf is computed from the
    training papers only, exactly as TfidfVectorizer(min_df=2, sublinear_tf=True)
    fitted on the training papers would.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    return (
        CountVectorizer(ngram_range=(1, 2), stop_words="english", dtype=np.float32)
        .fit_transform(texts)
        .tocsr()
    )


def arxiv_sanity(counts, train, labels, pool):
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

    df = np.bincount(counts[train].indices, minlength=counts.shape[1])
    idf = np.where(df >= 2, np.log((1.0 + len(train)) / (1.0 + df)) + 1.0, 0.0).astype(np.float32)

    def tfidf(rows):
        m = counts[rows].copy()
        m.data = 1.0 + np.log(m.data)
        m = m @ sp.diags(idf)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.diags(1.0 / norms) @ m

    model = LinearSVC(C=0.01, class_weight="balanced").fit(tfidf(train), labels)
    return model.decision_function(tfidf(pool))


def replay(rows, picks, docs, counts, sanity, protocol, weeks_limit=None):
    target_source, weeks, back, sources = PROTOCOLS[protocol]
    index = {r["arxiv_id"]: i for i, r in enumerate(rows)}
    days = np.array([d.day for d in docs])
    picked = defaultdict(lambda: defaultdict(set))  # source -> period -> row indexes
    for p in picks:
        if p["arxiv_id"] in index:
            picked[p["source"]][p["period"]].add(index[p["arxiv_id"]])
    results = defaultdict(list)
    step = int(os.environ.get("RANKING_BENCH_STEP", 1))
    periods = [f"2025-W{w:02d}" for w in weeks][::step][: weeks_limit or None]
    for period in periods:
        start = week_start(period)
        pool_start, pool_end = start - timedelta(days=7 * back), start + timedelta(days=7)
        known = {}  # row -> label weight, from picks announced before this week
        for source in sources:
            weight = WEIGHT_PICK if source == DAIR else WEIGHT_SHORTLIST
            for p, rows_picked in picked[source].items():
                if p < period:
                    for i in rows_picked:
                        known[i] = max(known.get(i, 0), weight)
        # Training: everything listed before the pool, plus earlier picks listed
        # before this week began; never a paper listed in the week being ranked.
        train = np.flatnonzero(days < pool_start)
        extra = [i for i in known if pool_start <= days[i] < start]
        train = np.concatenate([train, np.array(extra, dtype=np.int64)])
        labels = np.array([1 if i in known else 0 for i in train])
        weights = np.array([known.get(i, WEIGHT_UNLABELLED) for i in train])
        # As the app does: all labelled papers and the newest unlabelled ones.
        keep = newest_unlabelled(days[train], labels, weights, MAX_UNLABELLED)
        train, labels, weights = train[keep], labels[keep], weights[keep]
        pool = np.array(
            [i for i in np.flatnonzero((days >= pool_start) & (days < pool_end)) if i not in known]
        )
        targets = np.flatnonzero(np.isin(pool, list(picked[target_source][period])))
        if not len(targets):
            continue
        started = time.perf_counter()
        ranker = Ranker.fit(
            [docs[i] for i in train], labels, weights, reference_day=pool_start, counts=counts[train]
        )
        ours = ranker.scores([docs[i] for i in pool])
        results["our ranker"].append(metrics(ours, targets))
        results["_seconds"].append(time.perf_counter() - started)
        if os.environ.get("RANKING_BENCH_ONLY_OURS") == "1":
            continue
        rng = np.random.default_rng(int(period[-2:]))
        results["random"].append(metrics(rng.random(len(pool)), targets))
        # Newest listing first; ties (same day) keep arXiv's listing order.
        recency = np.array([days[i].toordinal() for i in pool], dtype=float) - np.arange(len(pool)) * 1e-6
        results["recency"].append(metrics(recency, targets))
        results["arxiv-sanity"].append(metrics(arxiv_sanity(sanity, train, labels, pool), targets))
        print(
            f"    {protocol} {period}: pool {len(pool)}, picks {len(targets)}, "
            f"ours r@5% {results['our ranker'][-1]['recall@5%']:.2f} "
            f"median {results['our ranker'][-1]['median percentile']:.3f}",
            flush=True,
        )
    return {
        name: {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
        for name, runs in results.items()
        if not name.startswith("_")
    }, len(results["our ranker"])


def quality(report, rows, picks):
    docs = [to_doc(r) for r in rows]
    counts = _count_matrix(docs, jobs=2)
    # arxiv-sanity's recipe reads title + abstract only (our Doc.text adds the comment).
    sanity = (
        None
        if os.environ.get("RANKING_BENCH_ONLY_OURS") == "1"
        else sanity_counts([f"{d.title}. {d.abstract}" for d in docs])
    )
    weeks_limit = int(os.environ.get("RANKING_BENCH_WEEKS", 0)) or None
    for protocol in PROTOCOLS:
        means, n_weeks = replay(rows, picks, docs, counts, sanity, protocol, weeks_limit)
        group = f"ranking: {protocol} ({n_weeks} weeks)"
        ours = means["our ranker"]
        # RANKING_BENCH_ONLY_OURS=1 skips the baselines.
        baselines = [name for name in ("random", "recency", "arxiv-sanity") if name in means]
        for name in baselines:
            report.add(
                group,
                f"recall@5%, ours vs {name}",
                ours["recall@5%"],
                "",
                baseline=means[name]["recall@5%"],
                baseline_label=name,
            )
        report.add(
            group,
            "recall@5% (ours)",
            ours["recall@5%"],
            "",
            target=f"≥ {TARGET_RECALL}",
            passed=ours["recall@5%"] >= TARGET_RECALL,
        )
        report.add(
            group,
            "recall@50 (ours)",
            ours["recall@50"],
            "",
            baseline=means.get("arxiv-sanity", {}).get("recall@50"),
            baseline_label="arxiv-sanity" if "arxiv-sanity" in means else "",
        )
        for name in baselines:
            report.add(
                group,
                f"median percentile, ours vs {name}",
                ours["median percentile"],
                "",
                baseline=means[name]["median percentile"],
                baseline_label=name,
            )
        report.add(
            group,
            "median percentile (ours)",
            ours["median percentile"],
            "",
            target=f"≤ {TARGET_MEDIAN}",
            passed=ours["median percentile"] <= TARGET_MEDIAN,
        )


def speed(report, rows, picks):
    fit_size = int(os.environ.get("RANKING_SPEED_FIT", 200_000))
    score_size = int(os.environ.get("RANKING_SPEED_PAPERS", 20_000))
    rng = np.random.default_rng(7)
    picked = {p["arxiv_id"] for p in picks}

    def synthetic(n):
        # Real candidates resampled, abstract words shuffled: distinct papers
        # with realistic vocabulary, lengths, author lists and labels (a quarter
        # of the real picks' copies stay positive: ~1.5 % of the history).
        docs, labels = [], []
        for i in rng.integers(0, len(rows), n):
            row = rows[i]
            words = row["abstract"].split()
            rng.shuffle(words)
            docs.append(to_doc({**row, "abstract": " ".join(words)}))
            labels.append(int(row["arxiv_id"] in picked and rng.random() < 0.25))
        return docs, np.array(labels)

    history, labels = synthetic(fit_size)
    weights = np.where(labels == 1, WEIGHT_SHORTLIST, WEIGHT_UNLABELLED)
    candidates, _ = synthetic(score_size)
    started = time.perf_counter()
    # The app's training set: every labelled paper, the newest unlabelled ones.
    keep = newest_unlabelled([d.day for d in history], labels, weights, MAX_UNLABELLED)
    ranker = Ranker.fit([history[i] for i in keep], labels[keep], weights[keep], jobs=2)
    fitted = time.perf_counter()
    scores, explanations = ranker.score_and_explain(candidates)
    done = time.perf_counter()
    assert len(scores) == len(explanations) == score_size
    group = f"ranking: speed (history {fit_size:,} papers, rescore {score_size:,})"
    note = (
        f"fit on {len(keep):,} papers: {int(labels.sum()):,} labelled + newest {MAX_UNLABELLED:,} unlabelled"
    )
    report.add(group, "fit", fitted - started, "s", note=note)
    print(f"    {note}")
    report.add(group, "rescore with explanations", done - fitted, "s")
    report.add(group, "fit + rescore", done - started, "s", target="≤ 30 s", passed=done - started <= 30)


def run(report):
    rows, picks = load()
    if os.environ.get("RANKING_BENCH_SKIP_QUALITY") != "1":
        quality(report, rows, picks)
    speed(report, rows, picks)
