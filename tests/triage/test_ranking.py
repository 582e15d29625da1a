"""The ranker learns from our picks, shortlists and rejections, and explains every score."""

from datetime import UTC, datetime, timedelta
from io import BytesIO, StringIO

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from sklearn.feature_extraction.text import HashingVectorizer

from issues.models import Issue, Pick
from tests.conftest import make_issue, make_paper
from triage import ranking, tasks
from triage.decisions import reject, shortlist, vote
from triage.models import PaperScore, RankerModel, WatchlistEntry
from triage.watchlists import Watchlist

pytestmark = pytest.mark.django_db

DAY = datetime(2021, 3, 1, 12, tzinfo=UTC)
DIFFUSION = "We train diffusion models for image generation with a denoising score matching objective."
QUANTUM = "We compute molecular ground states with a variational quantum eigensolver on noisy hardware."


def paper(n, abstract, *, authors=None, day=0, title=None, comment=""):
    return make_paper(
        f"2103.{20000 + n:05d}",
        title=title or f"Study number {n}",
        abstract=abstract,
        authors=[(a, "") for a in (authors or [f"Solo Author {n}"])],
        submitted_at=DAY + timedelta(days=day),
        updated_at=DAY + timedelta(days=day),
        comment=comment,
    )


@pytest.fixture
def history(editor):
    """An issue where diffusion papers were picked and quantum papers were not."""
    issue = make_issue("history")
    for n in range(8):
        # Ada co-wrote every pick: her name is the strongest author signal.
        picked = paper(n, f"{DIFFUSION} Variant {n}.", authors=["Ada Lovelace", f"Solo Author {n}"])
        Pick.objects.create(issue=issue, paper=picked, position=n + 1)
    for n in range(8, 30):
        paper(n, f"{QUANTUM} Variant {n}.")
    return issue


def test_labels_come_from_picks_shortlists_votes_and_rejections(editor, curator, other_curator):
    issue = make_issue("march-2021")
    picked, liked, loved, rejected, both = (paper(n, DIFFUSION) for n in range(5))
    Pick.objects.create(issue=issue, paper=picked, position=1)
    shortlist(liked, issue, by=curator)
    shortlist(loved, issue, by=curator)
    vote(loved, issue, by=curator, value=1)
    vote(loved, issue, by=other_curator, value=1)
    reject(rejected, issue, by=curator)
    # Rejected in one issue but shortlisted in another: the shortlist wins.
    reject(both, issue, by=curator)
    shortlist(both, make_issue("april-2021"), by=curator)

    labels = ranking.training_labels()

    assert labels[picked.pk] == (1, ranking.WEIGHT_PICK)
    assert labels[liked.pk] == (1, ranking.WEIGHT_SHORTLIST)
    assert labels[loved.pk] == (1, ranking.WEIGHT_SHORTLIST + 2 * ranking.WEIGHT_VOTE)
    assert labels[rejected.pk] == (0, ranking.WEIGHT_REJECTED)
    assert labels[both.pk][0] == 1
    assert ranking.WEIGHT_PICK > ranking.WEIGHT_SHORTLIST > ranking.WEIGHT_UNLABELLED


def test_unlabelled_papers_newer_than_every_decision_are_not_negatives(history):
    waiting = paper(99, DIFFUSION, day=60)

    ids, _docs, labels, weights = ranking.training_set()

    assert waiting.pk not in ids
    assert labels.sum() == 8 and len(ids) == 30
    assert set(weights[labels == 0]) == {ranking.WEIGHT_UNLABELLED}


def test_trained_model_ranks_papers_like_our_picks_first_and_stores_scores(history):
    fresh_diffusion = paper(50, "A faster sampler for diffusion models in image generation.", day=40)
    fresh_quantum = paper(51, "Error mitigation for the variational quantum eigensolver.", day=40)

    model = ranking.train_ranker()
    scored = ranking.score_papers([fresh_diffusion.pk, fresh_quantum.pk])

    assert scored == 2
    assert model.kind == "linear" and model.active and model.version == 1
    assert model.training_size == 30 and model.positives == 8
    assert model.metrics["positives"] == 8 and "signal_weights" in model.metrics
    scores = {s.paper_id: s for s in PaperScore.objects.all()}
    assert scores[fresh_diffusion.pk].score > scores[fresh_quantum.pk].score
    assert scores[fresh_diffusion.pk].ranker == model
    top_terms = [item["label"] for item in scores[fresh_diffusion.pk].explanation["up"]]
    assert any("diffusion" in label for label in top_terms)


def test_explanation_shown_matches_the_model_coefficients(history):
    target = paper(
        60,
        "Diffusion models for image generation, not quantum eigensolver.",
        day=40,
        comment="12 pages. Project page: https://example.org/diffusion",
    )
    model = ranking.train_ranker()
    ranking.score_papers([target.pk])
    stored = PaperScore.objects.get(paper=target)
    explanation = stored.explanation
    fitted = ranking.Ranker.loads(model.artifact)
    # A paper's terms name their hashed columns: the same hashing, one term a row.
    hasher = HashingVectorizer(
        analyzer=lambda terms: terms, n_features=ranking.HASH_FEATURES, alternate_sign=False
    )

    assert explanation["up"] and explanation["down"]
    for item in explanation["up"] + explanation["down"]:
        assert item["contribution"] == pytest.approx(item["weight"] * item["value"], abs=1e-5)
        if item["kind"] == "term":
            column = hasher.transform([[item["label"].split(" / ")[0]]]).indices[0]
            assert fitted.coef[column] == pytest.approx(item["weight"], abs=1e-5)
        else:
            index = [name for name, _ in ranking.SIGNALS].index(item["feature"])
            assert fitted.coef[ranking.HASH_FEATURES + index] == pytest.approx(item["weight"], abs=1e-5)
    assert all(
        a["contribution"] >= b["contribution"]
        for a, b in zip(explanation["up"], explanation["up"][1:], strict=False)
    )
    # The score is exactly the intercept plus every coefficient × feature value.
    fitted.reference_day = ranking._newest_day()
    features = fitted.features(
        [
            ranking.Doc(
                title=target.title,
                abstract=target.abstract,
                authors=tuple(a.key for a in target.authors.all()),
                categories=tuple(target.categories),
                day=target.submitted_at.date(),
                comment=target.comment,
            )
        ]
    )
    assert stored.score == pytest.approx(float((features @ fitted.coef)[0] + fitted.intercept), abs=1e-4)
    assert explanation["score"] == pytest.approx(stored.score, abs=1e-5)
    assert ranking.explain(target)["up"] == explanation["up"]


def test_with_too_few_labels_the_fallback_ranks_by_watchlist_and_says_so(curator):
    issue = make_issue("first-issue")
    Pick.objects.create(issue=issue, paper=paper(1, QUANTUM, authors=["Ada Known"]), position=1)
    WatchlistEntry.objects.create(user=curator, kind="keyword", term="diffusion")
    WatchlistEntry.objects.create(user=curator, kind="keyword", term="eigensolver", positive=False)
    watched = paper(2, DIFFUSION, day=1)
    by_known_author = paper(3, "Graph coloring heuristics.", authors=["Ada Known", "Bo New"], day=1)
    plain = paper(4, "Graph coloring heuristics.", day=1)
    unwanted = paper(5, QUANTUM, day=1)

    model = ranking.train_ranker()
    ranking.score_papers([watched.pk, by_known_author.pk, plain.pk, unwanted.pk])

    assert model.kind == "fallback"
    assert "Too few labels" in model.metrics["note"]
    score = {s.paper_id: s for s in PaperScore.objects.all()}
    assert score[watched.pk].score > score[by_known_author.pk].score > score[plain.pk].score
    assert score[unwanted.pk].score < score[plain.pk].score
    explanation = score[watched.pk].explanation
    assert explanation["kind"] == "fallback" and "Too few labels" in explanation["note"]
    assert explanation["up"][0]["label"] == "watchlist hits"
    assert explanation["watchlist_hits"] == {"positive": ["diffusion"], "negative": []}
    assert "authors' history" in [i["label"] for i in score[by_known_author.pk].explanation["up"]]


def test_authors_we_picked_before_push_a_paper_up(history):
    by_them = paper(70, "A note on graph coloring.", authors=["Ada Lovelace"], day=40)
    by_others = paper(71, "A note on graph coloring.", day=40)

    ranking.train_ranker()
    ranking.score_papers([by_them.pk, by_others.pk])

    them, others = PaperScore.objects.get(paper=by_them), PaperScore.objects.get(paper=by_others)
    assert them.score > others.score
    assert "authors' history" in [i["label"] for i in them.explanation["up"]]


def test_retraining_makes_a_new_active_version_and_rescoring_updates_in_place(history):
    target = paper(80, DIFFUSION, day=40)
    first = ranking.train_ranker()
    ranking.score_papers([target.pk])
    second = ranking.train_ranker()
    ranking.score_papers([target.pk])

    assert [m.version for m in RankerModel.objects.filter(active=True)] == [2]
    assert second.version == first.version + 1
    assert PaperScore.objects.get(paper=target).ranker == second
    assert ranking.Ranker.loads(second.artifact).kind == "linear"


def test_ranking_tasks_are_thin_callers(monkeypatch):
    calls = []
    monkeypatch.setattr(ranking, "retrain_and_rescore", lambda: calls.append(1) or (RankerModel(pk=7), 3))

    # Run in-process, as a worker would run them.
    assert tasks.rank_after_harvest(harvest_run_id=1) == [7, 3]
    assert tasks.retrain_ranker() == [7, 3]
    assert calls == [1, 1]


def test_rank_command_trains_rescores_and_prints_metrics(history):
    out = StringIO()
    call_command("rank", stdout=out)

    text = out.getvalue()
    assert "Trained ranker v1 (linear) on 30 papers, 8 positive." in text
    assert '"training_size": 30' in text
    assert "Scored 30 papers." in text


def test_retrain_button_queues_a_retrain_for_curators_only(
    history, client, editor, reader, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.retrain_ranker, "delay", lambda: queued.append("retrain"))
    with pytest.raises(PermissionDenied):
        tasks.request_retrain(by=reader)
    client.force_login(editor)

    page = client.get(reverse("admin:triage_rankermodel_changelist"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:triage_rankermodel_retrain"), follow=True)

    assert page.status_code == 200 and "Retrain now" in page.content.decode()
    assert response.status_code == 200 and "Retraining queued" in response.content.decode()
    assert queued == ["retrain"]
    assert client.get(reverse("admin:triage_rankermodel_retrain")).status_code == 405
    client.force_login(reader)
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(reverse("admin:triage_rankermodel_retrain"))
    assert refused.status_code in (302, 403)
    assert queued == ["retrain"]


def test_hashed_terms_round_trip_through_the_artifact():
    docs = [
        ranking.Doc(title=f"t{i}", abstract=DIFFUSION if i % 2 else QUANTUM, authors=(f"a{i % 3}", "b"))
        for i in range(20)
    ]
    fitted = ranking.Ranker.fit(docs, [i % 2 for i in range(20)])
    loaded = ranking.Ranker.loads(fitted.dumps())

    assert loaded.author_papers == fitted.author_papers == {"a0": 7, "a1": 7, "a2": 6, "b": 20}
    assert loaded.author_counts == fitted.author_counts
    assert np.allclose(loaded.scores(docs), fitted.scores(docs))


def test_the_arxiv_comment_is_part_of_the_text():
    with_link = paper(
        61, "A note on graph coloring.", day=40, comment="Code: https://github.com/ada/coloring"
    )

    _ids, docs, _hits = ranking._docs([with_link.pk], Watchlist.of())

    assert docs[0].comment == "Code: https://github.com/ada/coloring"
    assert "github" in ranking.doc_tokens(docs[0].text, docs[0].authors)


def test_prolific_authors_count_their_other_papers_only():
    """A paper's own entry is left out of its authors' paper counts in training,
    so a training paper sees what a new paper by the same authors will see."""
    signal = [name for name, _ in ranking.SIGNALS].index("author_papers")
    docs = [ranking.Doc(title=f"t{i}", abstract=QUANTUM, authors=("busy lab",)) for i in range(6)]
    docs += [ranking.Doc(title=f"u{i}", abstract=DIFFUSION, authors=(f"loner {i}",)) for i in range(6)]
    labels = [0] * 6 + [1] * 6
    fitted = ranking.Ranker.fit(docs, labels)

    training = fitted.signals(docs, own_positive=labels)[:, signal]
    new = fitted.signals(
        [
            ranking.Doc(title="n", abstract=QUANTUM, authors=("busy lab", "loner 0")),
            ranking.Doc(title="m", abstract=QUANTUM, authors=("nobody",)),
        ]
    )[:, signal]

    # The busiest author counts: log(1 + papers).
    assert fitted.kind == "linear"
    assert training.tolist() == pytest.approx([np.log(6)] * 6 + [0.0] * 6)
    assert new.tolist() == pytest.approx([np.log(7), 0.0])


def test_ranking_demo_trains_on_earlier_picks_ranks_june_and_stays_private(monkeypatch, client):
    from triage.management.commands import load_ranking_demo

    def row(n, abstract, label, day="2025-05-20"):
        return {
            "arxiv_id": f"2505.{n:05d}",
            "title": f"Paper {n}",
            "abstract": abstract,
            "authors": ["Ada Lovelace" if label else f"Other {n}"],
            "categories": ["cs.LG"],
            "date": day,
            "label": label,
            "period": "2025-W21",
        }

    rows = [row(n, DIFFUSION, "pick" if n < 3 else "shortlist") for n in range(6)]
    rows += [row(n, QUANTUM, None) for n in range(6, 20)]
    monkeypatch.setattr(load_ranking_demo, "history_rows", lambda: rows)
    june_diffusion = paper(90, DIFFUSION, day=1)
    june_diffusion.submitted_at = datetime(2025, 6, 10, 12, tzinfo=UTC)
    june_diffusion.save()
    june_quantum = paper(91, QUANTUM)
    june_quantum.submitted_at = datetime(2025, 6, 11, 12, tzinfo=UTC)
    june_quantum.save()

    first, second = StringIO(), StringIO()
    call_command("load_ranking_demo", stdout=first)
    call_command("load_ranking_demo", stdout=second)

    june = Issue.objects.get(slug="june-2025")
    history = Issue.objects.get(slug="history-before-june-2025")
    assert june.status == history.status == Issue.Status.DRAFT
    assert (june.period_start.isoformat(), june.period_end.isoformat()) == ("2025-06-01", "2025-06-30")
    assert history.picks.count() == 3 and history.triage.count() == 3
    assert "Trained ranker v1 (linear)" in first.getvalue()
    assert "nothing changed" in second.getvalue()
    assert RankerModel.objects.count() == 1
    scores = {s.paper_id: s.score for s in PaperScore.objects.all()}
    assert scores[june_diffusion.pk] > scores[june_quantum.pk]
    # Drafts never reach public pages.
    assert client.get(reverse("issues:issue", args=["history-before-june-2025"])).status_code == 404
    assert "History" not in client.get(reverse("issues:archive")).content.decode()


def test_a_model_stored_with_other_signals_is_retrained_not_used(history):
    old = ranking.train_ranker(evaluate_split=False)
    # An artifact from before a deployment changed the signals (here: one fewer).
    stored = dict(np.load(BytesIO(bytes(old.artifact)), allow_pickle=False))
    stored["signals"] = stored["signals"][:-1]
    buffer = BytesIO()
    np.savez_compressed(buffer, **stored)
    RankerModel.objects.filter(pk=old.pk).update(artifact=buffer.getvalue())
    with pytest.raises(ranking.IncompatibleArtifact):
        ranking.Ranker.loads(buffer.getvalue())

    model, ranker = ranking.active_ranker()

    assert model.version == old.version + 1 and model.active
    assert ranker.kind == "linear"
    assert not RankerModel.objects.get(pk=old.pk).active
