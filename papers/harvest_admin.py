"""The admin's harvest pages: coverage per source and day, and adding papers by id/URL.

Thin views over papers.harvest; hooked into HarvestRunAdmin.get_urls.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from . import harvest
from .adding import request_papers
from .models import HarvestRun, HarvestSource


class AddPapersForm(forms.Form):
    ids = forms.CharField(
        label="arXiv ids or URLs",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="One or many, separated by spaces, commas or new lines: 2103.10360, arXiv:2103.10360v2, "
        "https://arxiv.org/abs/2103.10360, https://arxiv.org/pdf/2103.10360.pdf, hep-th/9901001.",
        max_length=20000,
    )

    def clean_ids(self):
        texts = [t for t in self.cleaned_data["ids"].replace(",", " ").split() if t]
        if not texts:
            raise forms.ValidationError("Give at least one arXiv id or URL.")
        if len(texts) > harvest.MAX_IDS:
            raise forms.ValidationError(f"At most {harvest.MAX_IDS} ids at once.")
        return texts


def add_papers_view(model_admin, request):
    """Answers at once: papers we have are listed, the others are fetched by a queued run to follow."""
    results, run = None, None
    form = AddPapersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            results, run = request_papers(form.cleaned_data["ids"], by=request.user)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            _summarize(request, results, run)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Add papers by arXiv id or URL",
        "form": form,
        "results": results,
        "run": run,
        "opts": model_admin.model._meta,
    }
    return render(request, "admin/papers/add_papers.html", context)


def _summarize(request, results, run):
    counts = {
        status: sum(1 for r in results if r["status"] == status) for status in ("known", "queued", "error")
    }
    parts = [f"{counts['known']} already here", f"{counts['queued']} being fetched from arXiv"]
    if counts["error"]:
        parts.append(f"{counts['error']} with errors")
    if run is not None and run.status == HarvestRun.Status.FAILED:
        messages.error(request, f"Nothing was fetched: {run.error}")
    level = messages.WARNING if counts["error"] else messages.SUCCESS
    messages.add_message(request, level, ", ".join(parts) + ".")


def coverage_view(model_admin, request):
    try:
        until = date.fromisoformat(request.GET["until"]) if request.GET.get("until") else None
    except ValueError:
        messages.error(request, "“until” must be a date, YYYY-MM-DD.")
        until = None
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 366))
    except ValueError:
        days = 30
    rows, sources = harvest.coverage(HarvestSource.objects.all(), until=until, days=days)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Harvest coverage: papers per submission day",
        "rows": rows,
        "sources": sources,
        "days": days,
        "today": timezone.now().date(),
        "opts": model_admin.model._meta,
    }
    return render(request, "admin/papers/coverage.html", context)
