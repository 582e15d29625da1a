"""The ranker: a linear model trained on our own picks, explainable term by term.

Two layers:

* ``Ranker`` works on plain ``Doc`` values (title, abstract, comment, authors,
  categories, date, code, watchlist hits) and knows nothing about the database, so that the
  benchmark (bench/ranking.py) replays real data through exactly the code the
  app uses.
* ``train_ranker()``, ``score_papers()`` and ``explain()`` read labels and
  papers from the database, store a ``RankerModel`` and write ``PaperScore``
  rows, which the queue reads (scoring never runs while a page loads).

Features: tf-idf over title + abstract + arXiv comment (uni- and bigrams,
sublinear tf, each author a term of its own) and a few signals: the authors'
history (their papers we picked or shortlisted before), how prolific the most
prolific author is (their papers among the ones we trained on), code
available, watchlist hits, the number of authors and cross-lists, and
recency. The model is a logistic regression, so a paper's score is the sum of
coefficient × feature value plus the intercept; the explanation stores the
largest of those products, up and down, and nothing else.

Choices measured on the week-by-week replay (bench/ranking.py; HF daily papers
and dair-ai top-10) and kept: the prolific-author signal (the most prolific
author's paper count among the training papers; next to the authors' history
it tells a group we often pick from one that publishes a lot and is seldom
picked, so its learned weight usually comes out negative; it lifted both
protocols, and the max over authors gave better medians than the sum), the
arXiv comment in the text (project pages, code links, venues: it lifted the HF
protocol and cost the dair-ai one a little, within its noise of a pick or
two), and C=2 (of 0.5, 1, 2 and 4).
Tried and left out: time-decayed label weights (half-lives of 4 and 8 weeks),
other positive/negative balances (30/70, 70/30), a second copy of the title
as terms, category terms, unnormalised category and author terms, a
project-page signal and an author pick-rate signal (both helped the HF
protocol and hurt the dair-ai one).

The text is hashed (HashingVectorizer) rather than given a vocabulary: no
vocabulary to build over the whole history, the artifact is just the idf and
the coefficients, and a paper's own terms name its columns when it is
explained.
"""

import io
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import scipy.sparse as sp
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from issues.models import Pick
from papers.models import Authorship, Paper

from .models import PaperScore, RankerModel, TriageDecision, Vote
from .watchlists import Watchlist, split_hits

HASH_FEATURES = 2**20
# Below this many positive labels a model would learn noise: the fallback ranks.
MIN_POSITIVES = 5
MIN_NEGATIVES = 5
# Label weights: how strongly each kind of history speaks. Picks are the
# editors' final word; a shortlist is a curator's "maybe"; a rejection is a
# deliberate "no"; a paper nobody acted on is only a weak "probably not".
WEIGHT_PICK = 3.0
WEIGHT_SHORTLIST = 1.5
WEIGHT_VOTE = 0.5
WEIGHT_REJECTED = 1.0
WEIGHT_UNLABELLED = 0.3
RECENCY_DAYS = 30.0
# Inverse L2 strength of the logistic regression: of 0.5, 1, 2 and 4 on the replay
# benchmark (bench/ranking.py), 2 ranked best on both protocols.
REGULARIZATION_C = 2.0
EXPLAIN_TOP = 6

SIGNALS = [
    ("author_history", "authors' history"),
    ("author_known", "an author we picked before"),
    ("author_papers", "a prolific author"),
    ("n_authors", "number of authors"),
    ("cross_lists", "cross-listed categories"),
    ("has_code", "code available"),
    ("watch_positive", "watchlist hits"),
    ("watch_negative", "negative watchlist hits"),
    ("recency", "recency"),
]
SIGNAL_LABELS = dict(SIGNALS)
RECENCY = [name for name, _ in SIGNALS].index("recency")

# The fallback's fixed weights (a new team has no labels to learn them from).
FALLBACK_WEIGHTS = {
    "watch_positive": 2.0,
    "watch_negative": -2.0,
    "author_history": 1.0,
    "author_known": 0.5,
    "recency": 1.0,
}


class IncompatibleArtifact(ValueError):
    """A stored model made by an earlier version of the features."""


@dataclass(frozen=True)
class Doc:
    """What the ranker sees of a paper."""

    title: str
    abstract: str
    authors: tuple = ()  # normalized author keys (papers.models.normalize_author_name)
    categories: tuple = ()
    day: date | None = None  # submission (or listing) date
    has_code: bool = False
    watch_positive: int = 0
    watch_negative: int = 0
    comment: str = ""  # the arXiv comment: pages, venue, code and project links

    @property
    def text(self):
        if self.comment:
            return f"{self.title}. {self.abstract} {self.comment}"
        return f"{self.title}. {self.abstract}"


def _vectorizer():
    return HashingVectorizer(
        ngram_range=(1, 2),
        n_features=HASH_FEATURES,
        alternate_sign=False,
        norm=None,
        stop_words="english",
        dtype=np.float32,
    )


# Words and word pairs of a text, lower-cased, English stop words dropped.
_ANALYZER = _vectorizer().build_analyzer()
# The hasher HashingVectorizer uses, fed already analysed tokens.
_HASHER = FeatureHasher(HASH_FEATURES, input_type="string", alternate_sign=False, dtype=np.float32)


def _hash_tokens(token_lists):
    return _HASHER.transform(token_lists).tocsr()


def _names_for(tokens, columns):
    """Name hashed ``columns`` by the terms of this paper that land in them."""
    unique = sorted(set(tokens))
    if not unique:
        return {}
    hashed = _HASHER.transform([[t] for t in unique]).tocsr()
    names = {}
    for term, column in zip(unique, hashed.indices, strict=True):
        if int(column) in columns:
            names[int(column)] = f"{names[int(column)]} / {term}" if int(column) in names else term
    return names


AUTHOR_PREFIX = "author: "


def doc_tokens(text, authors):
    """A paper's terms: words and word pairs of its text (``Doc.text``), and its authors.

    Each author is a term of its own ("author: ada lovelace"), so the model can
    learn who we like to read, and the explanation names them.
    """
    return _ANALYZER(text) + [AUTHOR_PREFIX + a for a in authors]


def _count_matrix(docs, jobs=1):
    """Raw term counts, hashed; split over ``jobs`` processes for big fits."""
    items = [(d.text, d.authors) for d in docs]
    if jobs > 1 and len(items) > 20000:
        from joblib import Parallel, delayed

        size = -(-len(items) // jobs)
        # Forked workers inherit the loaded app (a fresh interpreter would have
        # to set Django up before it could import this module).
        parts = Parallel(n_jobs=jobs, backend="multiprocessing")(
            delayed(_hash_items)(items[i : i + size]) for i in range(0, len(items), size)
        )
        return sp.vstack(parts).tocsr()
    return _hash_items(items)


def _hash_items(items):
    return _hash_tokens(doc_tokens(text, authors) for text, authors in items)


@dataclass
class Ranker:
    """A fitted linear ranker (or the fallback) over ``Doc`` values."""

    kind: str = "linear"  # or "fallback"
    idf: np.ndarray | None = None
    coef: np.ndarray | None = None  # text columns then signal columns
    intercept: float = 0.0
    author_counts: dict = field(default_factory=dict)  # author key -> positive papers
    author_papers: dict = field(default_factory=dict)  # author key -> papers trained on
    reference_day: date | None = None

    # -- features -------------------------------------------------------------

    def _tfidf(self, counts):
        counts = counts.copy()
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf
        weighted = counts @ sp.diags(self.idf.astype(np.float32))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.diags((1.0 / norms).astype(np.float32)) @ weighted

    def signals(self, docs, own_positive=None):
        """The signal columns.

        ``own_positive`` (the labels, given only for the training papers) takes a
        training paper itself out of its authors' counts: its own label out of
        their history, which would otherwise leak the answer, and the paper out of
        their paper counts, so that it counts the others as it will for a new paper.
        """
        rows = np.zeros((len(docs), len(SIGNALS)), dtype=np.float32)
        ref = self.reference_day
        training = own_positive is not None
        for i, doc in enumerate(docs):
            own = 1 if training and own_positive[i] else 0
            history = [max(self.author_counts.get(a, 0) - own, 0) for a in doc.authors]
            total = sum(history)
            rows[i, 0] = math.log1p(total)
            rows[i, 1] = 1.0 if total else 0.0
            papers = max((self.author_papers.get(a, 0) for a in doc.authors), default=0)
            rows[i, 2] = math.log1p(max(papers - training, 0))
            rows[i, 3] = math.log1p(len(doc.authors))
            rows[i, 4] = max(len(doc.categories) - 1, 0)
            rows[i, 5] = 1.0 if doc.has_code else 0.0
            rows[i, 6] = doc.watch_positive
            rows[i, 7] = doc.watch_negative
            if ref is not None and doc.day is not None:
                rows[i, 8] = math.exp(-max((ref - doc.day).days, 0) / RECENCY_DAYS)
        return rows

    def features(self, docs, counts=None, own_positive=None):
        if counts is None:
            counts = _count_matrix(docs)
        return sp.hstack([self._tfidf(counts), sp.csr_matrix(self.signals(docs, own_positive))]).tocsr()

    # -- fitting --------------------------------------------------------------

    @classmethod
    def fit(cls, docs, labels, weights=None, *, reference_day=None, jobs=1, counts=None, C=None):
        """Fit on ``docs`` with ``labels`` (1 positive, 0 negative) and sample weights.

        Too few positives or negatives gives the fallback ranker instead.
        """
        labels = np.asarray(labels, dtype=np.int8)
        weights = np.ones(len(docs)) if weights is None else np.asarray(weights, dtype=np.float64)
        if reference_day is None:
            reference_day = max((d.day for d in docs if d.day), default=None)
        author_counts, author_papers = {}, {}
        for doc, label in zip(docs, labels, strict=True):
            for a in doc.authors:
                author_papers[a] = author_papers.get(a, 0) + 1
                if label:
                    author_counts[a] = author_counts.get(a, 0) + 1
        positives = int(labels.sum())
        if positives < MIN_POSITIVES or len(labels) - positives < MIN_NEGATIVES:
            return cls(kind="fallback", author_counts=author_counts, reference_day=reference_day)
        if counts is None:
            counts = _count_matrix(docs, jobs=jobs)
        df = np.bincount(counts.indices, minlength=HASH_FEATURES)
        # Terms seen in a single paper say nothing about the next one.
        idf = np.where(df >= 2, np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0, 0.0)
        ranker = cls(
            kind="linear",
            idf=idf.astype(np.float32),
            author_counts=author_counts,
            author_papers=author_papers,
            reference_day=reference_day,
        )
        C = REGULARIZATION_C if C is None else C
        signals = ranker.signals(docs, own_positive=labels)
        # Recency is not learned: in a history, a paper's age says more about which
        # papers we kept than about what we liked. It ranks only in the fallback.
        signals[:, RECENCY] = 0
        X = sp.hstack([ranker._tfidf(counts), sp.csr_matrix(signals)]).tocsr()
        # Balance the classes by total weight: a handful of picks must not drown
        # in thousands of unlabelled papers.
        pos, neg = labels == 1, labels == 0
        balanced = weights.copy()
        balanced[pos] *= len(labels) / (2.0 * weights[pos].sum())
        balanced[neg] *= len(labels) / (2.0 * weights[neg].sum())
        model = LogisticRegression(C=C, solver="liblinear", max_iter=200)
        model.fit(X, labels, sample_weight=balanced)
        ranker.coef = model.coef_.ravel().astype(np.float32)
        ranker.intercept = float(model.intercept_[0])
        return ranker

    # -- scoring and explaining -------------------------------------------------

    def signal_weights(self):
        if self.kind == "fallback":
            return np.array([FALLBACK_WEIGHTS.get(name, 0.0) for name, _ in SIGNALS], dtype=np.float32)
        return self.coef[HASH_FEATURES:]

    def scores(self, docs):
        return self.score_and_explain(docs, top=0)[0]

    def explain(self, doc, top=EXPLAIN_TOP):
        """One paper's score and its largest contributions (coefficient × value)."""
        return self.score_and_explain([doc], top=top)[1][0]

    def score_and_explain(self, docs, top=EXPLAIN_TOP):
        """Scores and, per paper, the largest products coefficient × feature value.

        The score is exactly intercept + the sum of all products; the explanation
        lists the ``top`` largest pushing up and down, terms named by the paper's
        own words (hashed columns carry no names).
        """
        signal_values = self.signals(docs)
        signal_weights = self.signal_weights()
        signal_parts = signal_values * signal_weights
        scores = signal_parts.sum(axis=1).astype(np.float64)
        text_parts = None
        if self.kind == "linear":
            tokens = [doc_tokens(d.text, d.authors) for d in docs]
            X = self._tfidf(_hash_tokens(tokens))
            text_parts = X.multiply(self.coef[:HASH_FEATURES]).tocsr()
            scores += np.asarray(text_parts.sum(axis=1)).ravel() + self.intercept
        if not top:
            return scores, None
        explanations = []
        for i in range(len(docs)):
            items = [
                (
                    float(signal_parts[i, k]),
                    "signal",
                    name,
                    float(signal_values[i, k]),
                    float(signal_weights[k]),
                )
                for k, (name, _label) in enumerate(SIGNALS)
                if signal_values[i, k] and signal_weights[k]
            ]
            if text_parts is not None:
                start, end = text_parts.indptr[i], text_parts.indptr[i + 1]
                columns, parts = text_parts.indices[start:end], text_parts.data[start:end]
                chosen = np.concatenate([np.argsort(-parts)[:top], np.argsort(parts)[:top]])
                names = _names_for(tokens[i], {int(columns[j]) for j in chosen})
                for j in set(chosen.tolist()):
                    column = int(columns[j])
                    weight = float(self.coef[column])
                    items.append(
                        (float(parts[j]), "term", names.get(column, "?"), float(parts[j] / weight), weight)
                    )
            explanations.append(self._explanation(float(scores[i]), items, top))
        return scores, explanations

    def _explanation(self, score, items, top):
        def entry(item):
            contribution, kind, name, value, weight = item
            label = SIGNAL_LABELS[name] if kind == "signal" else name
            return {
                "kind": kind,
                "feature": name,
                "label": label,
                "value": round(value, 6),
                "weight": round(weight, 6),
                "contribution": round(contribution, 6),
            }

        up = sorted((i for i in items if i[0] > 0), key=lambda i: -i[0])[:top]
        down = sorted((i for i in items if i[0] < 0), key=lambda i: i[0])[:top]
        return {
            "kind": self.kind,
            "score": round(score, 6),
            "intercept": round(self.intercept, 6),
            "up": [entry(i) for i in up],
            "down": [entry(i) for i in down],
        }

    # -- storage --------------------------------------------------------------

    def dumps(self):
        """The artifact: idf and coefficients as sparse arrays, plus the authors' counts."""
        buffer = io.BytesIO()
        text_coef = np.zeros(HASH_FEATURES, np.float32) if self.coef is None else self.coef[:HASH_FEATURES]
        nonzero = np.flatnonzero(text_coef)
        idf_nonzero = np.zeros(0, np.int64) if self.idf is None else np.flatnonzero(self.idf)
        authors = sorted(self.author_counts)
        # Tens of thousands of names: one string, which numpy stores compactly.
        prolific = sorted(self.author_papers)
        np.savez_compressed(
            buffer,
            kind=np.array(self.kind),
            coef_index=nonzero.astype(np.int32),
            coef_value=text_coef[nonzero],
            signal_coef=self.signal_weights() if self.kind == "linear" else np.zeros(0, np.float32),
            idf_index=idf_nonzero.astype(np.int32),
            idf_value=np.zeros(0, np.float32) if self.idf is None else self.idf[idf_nonzero],
            intercept=np.array(self.intercept),
            authors=np.array(authors, dtype=str),
            author_counts=np.array([self.author_counts[a] for a in authors], np.int32),
            paper_authors=np.array("\n".join(prolific)),
            author_papers=np.array([self.author_papers[a] for a in prolific], np.int32),
            reference_day=np.array(self.reference_day.isoformat() if self.reference_day else ""),
            signals=np.array([name for name, _ in SIGNALS], dtype=str),
        )
        return buffer.getvalue()

    @classmethod
    def loads(cls, data):
        """The Ranker of ``dumps()``; IncompatibleArtifact when made with other signals."""
        stored = np.load(io.BytesIO(bytes(data)), allow_pickle=False)
        if "signals" not in stored.files or stored["signals"].tolist() != [name for name, _ in SIGNALS]:
            raise IncompatibleArtifact("The stored model was trained on another set of signals.")
        kind = str(stored["kind"])
        ranker = cls(
            kind=kind,
            intercept=float(stored["intercept"]),
            author_counts=dict(
                zip(stored["authors"].tolist(), stored["author_counts"].tolist(), strict=True)
            ),
            author_papers=dict(
                zip(
                    str(stored["paper_authors"]).split("\n") if len(stored["author_papers"]) else [],
                    stored["author_papers"].tolist(),
                    strict=True,
                )
            ),
            reference_day=date.fromisoformat(str(stored["reference_day"]))
            if str(stored["reference_day"])
            else None,
        )
        if kind == "linear":
            idf = np.zeros(HASH_FEATURES, np.float32)
            idf[stored["idf_index"]] = stored["idf_value"]
            coef = np.zeros(HASH_FEATURES + len(SIGNALS), np.float32)
            coef[stored["coef_index"]] = stored["coef_value"]
            coef[HASH_FEATURES:] = stored["signal_coef"]
            ranker.idf, ranker.coef = idf, coef
        return ranker


def newest_unlabelled(days, labels, weights, cap):
    """Indexes to train on: every labelled paper and the ``cap`` newest unlabelled ones.

    Unlabelled papers are only weak negatives, and the newest ones speak for
    today's topics; capping them bounds the fit on a long history.
    """
    days = np.asarray(days)
    unlabelled = (np.asarray(labels) == 0) & (np.asarray(weights) == WEIGHT_UNLABELLED)
    keep = np.flatnonzero(~unlabelled)
    candidates = np.flatnonzero(unlabelled)
    if cap is not None and len(candidates) > cap:
        newest = np.argsort(days[candidates], kind="stable")[-cap:]
        candidates = candidates[np.sort(newest)]
    return np.sort(np.concatenate([keep, candidates]))


# The database side ---------------------------------------------------------------------------------

MAX_UNLABELLED = 40_000
RESCORE_DAYS = 120
FALLBACK_NOTE = (
    "Too few labels to train a model ({positives} positive, {negatives} negative; "
    "at least {min_pos} of each needed): ranked by watchlists, author history and recency."
)


def _docs(paper_ids, watchlist):
    """(ids, docs, watchlist hits) for the papers that exist, in the order of ``paper_ids``."""
    found = {}
    for start in range(0, len(paper_ids), 5000):
        chunk = paper_ids[start : start + 5000]
        authors = defaultdict(list)
        for paper_id, key in (
            Authorship.objects.filter(paper_id__in=chunk)
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__key")
        ):
            authors[paper_id].append(key)
        for pk, title, abstract, comment, categories, submitted_at, code_url in Paper.objects.filter(
            pk__in=chunk
        ).values_list("pk", "title", "abstract", "comment", "categories", "submitted_at", "code_url"):
            keys = tuple(authors[pk])
            hits = split_hits(watchlist.hits(title, abstract, keys))
            doc = Doc(
                title=title,
                abstract=abstract,
                authors=keys,
                categories=tuple(categories or ()),
                day=submitted_at.date(),
                has_code=bool(code_url),
                watch_positive=len(hits["positive"]),
                watch_negative=len(hits["negative"]),
                comment=comment,
            )
            found[pk] = (doc, hits)
    ids = [pk for pk in paper_ids if pk in found]
    return ids, [found[pk][0] for pk in ids], [found[pk][1] for pk in ids]


def training_labels():
    """paper id -> (label, weight) from our own history.

    Picks are the strongest positives; a shortlist is a positive whose weight
    follows its votes; a rejection is a negative (unless the paper was
    shortlisted or picked elsewhere, which wins).
    """
    labels = {}
    decisions = TriageDecision.objects.values_list("paper_id", "state")
    for paper_id, state in decisions:
        if state == TriageDecision.State.REJECTED:
            labels.setdefault(paper_id, (0, WEIGHT_REJECTED))
    net_votes = dict(
        Vote.objects.values("paper_id").annotate(net=Sum("value")).values_list("paper_id", "net")
    )
    for paper_id, state in decisions:
        if state == TriageDecision.State.SHORTLISTED:
            weight = max(WEIGHT_SHORTLIST + WEIGHT_VOTE * (net_votes.get(paper_id) or 0), WEIGHT_VOTE)
            labels[paper_id] = (1, max(weight, labels[paper_id][1] if labels.get(paper_id, (0,))[0] else 0))
    for paper_id in Pick.objects.values_list("paper_id", flat=True):
        labels[paper_id] = (1, WEIGHT_PICK)
    return labels


def _newest_day():
    newest = Paper.objects.aggregate(newest=Max("submitted_at"))["newest"]
    return newest.date() if newest else timezone.now().date()


def training_set():
    """(ids, docs, labels, weights): the labelled papers and the unlabelled weak negatives.

    Unlabelled papers count as negatives only if they are no newer than our
    newest decision: anything older was in a queue someone triaged, while the
    newer ones are still waiting for a look.
    """
    labels = training_labels()
    cutoff = Paper.objects.filter(pk__in=list(labels)).aggregate(newest=Max("submitted_at"))["newest"]
    unlabelled = []
    if cutoff is not None:
        unlabelled = list(
            Paper.objects.filter(submitted_at__lte=cutoff)
            .exclude(pk__in=list(labels))
            .order_by("-submitted_at", "-pk")
            .values_list("pk", flat=True)[:MAX_UNLABELLED]
        )
    ids, docs, _hits = _docs(sorted(labels) + unlabelled, Watchlist.of())
    y = np.array([labels[pk][0] if pk in labels else 0 for pk in ids], dtype=np.int8)
    w = np.array([labels[pk][1] if pk in labels else WEIGHT_UNLABELLED for pk in ids])
    return ids, docs, y, w


def evaluate(docs, labels, weights, share=0.2):
    """A time split: fit on the older papers, rank the newest ``share``.

    Returns recall@5% and the median percentile of the held-out positives, or
    why there is nothing to measure yet.
    """
    days = np.array([d.day.toordinal() for d in docs])
    split = np.quantile(days, 1 - share) if len(days) else 0
    old, new = np.flatnonzero(days < split), np.flatnonzero(days >= split)
    held_out = labels[new] == 1
    if labels[old].sum() < MIN_POSITIVES or held_out.sum() < 1:
        return {"evaluation": "not enough labels for a time-split evaluation yet"}
    ranker = Ranker.fit([docs[i] for i in old], labels[old], weights[old])
    scores = ranker.scores([docs[i] for i in new])
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(new), dtype=np.int64)
    rank[order] = np.arange(len(new))
    ranks = rank[held_out]
    top = max(1, int(np.ceil(0.05 * len(new))))
    return {
        "evaluation": f"time split: trained on papers before {date.fromordinal(int(split))}, ranked the newer ones",
        "held_out_papers": int(len(new)),
        "held_out_positives": int(held_out.sum()),
        "recall_at_5pct": round(float(np.mean(ranks < top)), 4),
        "median_percentile": round(float(np.median((ranks + 0.5) / len(new))), 4),
    }


def train_ranker(*, evaluate_split=True):
    """Train on our history, store the model as the active RankerModel and return it."""
    started = time.perf_counter()
    _ids, docs, labels, weights = training_set()
    ranker = Ranker.fit(docs, labels, weights, reference_day=_newest_day(), jobs=2)
    fit_seconds = time.perf_counter() - started
    positives = int(labels.sum())
    metrics = {
        "training_size": len(docs),
        "positives": positives,
        "rejected": int(np.sum((labels == 0) & (weights == WEIGHT_REJECTED))),
        "unlabelled": int(np.sum((labels == 0) & (weights == WEIGHT_UNLABELLED))),
        "fit_seconds": round(fit_seconds, 2),
    }
    if ranker.kind == "fallback":
        metrics["note"] = FALLBACK_NOTE.format(
            positives=positives, negatives=len(docs) - positives, min_pos=MIN_POSITIVES
        )
    else:
        metrics["signal_weights"] = {
            name: round(float(w), 4) for (name, _), w in zip(SIGNALS, ranker.signal_weights(), strict=True)
        }
        if evaluate_split:
            metrics.update(evaluate(docs, labels, weights))
    with transaction.atomic():
        latest = RankerModel.objects.select_for_update().order_by("-version").first()
        RankerModel.objects.filter(active=True).update(active=False)
        return RankerModel.objects.create(
            version=(latest.version + 1) if latest else 1,
            kind=ranker.kind,
            training_size=len(docs),
            positives=positives,
            metrics=metrics,
            artifact=ranker.dumps(),
            active=True,
        )


def active_ranker():
    """(RankerModel, Ranker) for the active model, training one if there is none."""
    model = RankerModel.objects.filter(active=True).order_by("-version").first() or train_ranker()
    try:
        ranker = Ranker.loads(model.artifact)
    except IncompatibleArtifact:
        # A deployment changed the features since this model was trained: train it anew.
        model = train_ranker()
        ranker = Ranker.loads(model.artifact)
    # Recency counts from the newest paper we hold, not from the training day.
    ranker.reference_day = _newest_day()
    return model, ranker


def _stored_explanation(explanation, model, ranker, hits):
    explanation = dict(explanation, model_version=model.version, reference_day=str(ranker.reference_day))
    explanation["watchlist_hits"] = hits
    if ranker.kind == "fallback":
        explanation["note"] = (
            model.metrics.get("note") or "Too few labels to train a model: fallback ranking."
        )
    return explanation


def score_papers(paper_ids=None, *, batch=5000):
    """Score papers with the active model and store PaperScore rows; returns how many.

    Without ``paper_ids``: every paper submitted in the last RESCORE_DAYS days
    of what we hold (the ones that can still be candidates).
    """
    model, ranker = active_ranker()
    if paper_ids is None:
        since = _newest_day() - timedelta(days=RESCORE_DAYS)
        paper_ids = list(Paper.objects.filter(submitted_at__date__gte=since).values_list("pk", flat=True))
    paper_ids = list(paper_ids)
    watchlist = Watchlist.of()
    scored = 0
    for start in range(0, len(paper_ids), batch):
        ids, docs, hits = _docs(paper_ids[start : start + batch], watchlist)
        scores, explanations = ranker.score_and_explain(docs)
        now = timezone.now()
        PaperScore.objects.bulk_create(
            [
                PaperScore(
                    paper_id=pk,
                    ranker=model,
                    score=float(score),
                    explanation=_stored_explanation(explanation, model, ranker, paper_hits),
                    scored_at=now,
                )
                for pk, score, explanation, paper_hits in zip(ids, scores, explanations, hits, strict=True)
            ],
            update_conflicts=True,
            unique_fields=["paper"],
            update_fields=["ranker", "score", "explanation", "scored_at"],
        )
        scored += len(ids)
    return scored


def explain(paper):
    """The explanation of ``paper``'s score under the active model, computed now."""
    model, ranker = active_ranker()
    _ids, docs, hits = _docs([paper.pk], Watchlist.of())
    _scores, explanations = ranker.score_and_explain(docs)
    return _stored_explanation(explanations[0], model, ranker, hits[0])


def retrain_and_rescore():
    """What runs after each harvest and on demand: a new model, then fresh scores."""
    model = train_ranker()
    return model, score_papers()
