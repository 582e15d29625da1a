"""The demo issue: the ten April 2021 papers with commentary we wrote."""

import json
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files import File
from django.db import transaction

from curation.roles import EDITORS
from papers.ingest import PaperRecord, import_entries
from papers.models import Paper

from ..editing import ISSUE_FIELDS, add_pick, save_issue
from ..figures import add_figure
from ..models import Issue
from ..publishing import publish_issue

DEMO_DIR = Path(__file__).resolve().parent
DEMO_FILE = DEMO_DIR / "april_2021.json"
DEMO_EDITOR = "demo-editor"


def _parse_time(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def demo_editor():
    """A login-less editor account that publishes the demo issue."""
    user, created = get_user_model().objects.get_or_create(
        username=DEMO_EDITOR, defaults={"first_name": "Demo", "last_name": "Editor"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=EDITORS))
    return user


def paper_records(papers):
    for entry in papers:
        submitted = _parse_time(entry["submitted"])
        yield PaperRecord(
            arxiv_id=entry["arxiv_id"],
            version=entry.get("version_curated") or 1,
            title=entry["title"],
            abstract=entry.get("abstract", ""),
            authors=[(name, "") for name in entry["authors"]],
            primary_category=entry["primary_category"],
            categories=entry["categories"],
            submitted_at=submitted,
            updated_at=submitted,
            code_url=entry.get("code_url") or "",
            project_url=entry.get("demo_url") or "",
        )


@transaction.atomic
def load_demo():
    """Create and publish the demo issue. Returns (issue, created); a second run changes nothing."""
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    meta = data["issue"]
    existing = Issue.objects.filter(slug=meta["slug"]).first()
    if existing is not None:
        return existing, False

    import_entries(list(paper_records(data["papers"])))
    papers = Paper.objects.in_bulk([p["arxiv_id"] for p in data["papers"]], field_name="arxiv_id")
    editor = demo_editor()
    # The same functions the admin uses: revisions, rendering and footnote
    # numbering come out exactly as for an issue composed by hand.
    issue = save_issue(
        Issue(),
        by=editor,
        data={name: meta.get(name, "") for name in ISSUE_FIELDS},
        lock_version=0,
    )
    for entry in sorted(data["papers"], key=lambda e: e["position"]):
        paper = papers[entry["arxiv_id"]]
        pick = add_pick(
            issue,
            paper,
            by=editor,
            why=entry["why"],
            key_insights=entry["key_insights"],
            code_url=entry.get("code_url") or "",
            demo_url=entry.get("demo_url") or "",
            paper_version=entry.get("version_curated") or paper.version,
            paper_title=entry["title"],
        )
        for figure in entry.get("figures", []):
            with open(DEMO_DIR / "figures" / figure["file"], "rb") as handle:
                add_figure(
                    pick,
                    by=editor,
                    image=File(handle, name=figure["file"]),
                    alt_text=figure["alt_text"],
                    caption=figure.get("caption", ""),
                    credit=figure.get("credit", ""),
                    credit_url=figure.get("credit_url", ""),
                )
    published_at = _parse_time(meta["published_at"])
    issue = publish_issue(issue, by=editor, at=published_at)
    return issue, True
