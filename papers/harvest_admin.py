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
from .models import HarvestSource


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
        if len(texts) > 500:
            raise forms.ValidationError("At most 500 ids at once.")
        return texts


def add_papers_view(model_admin, request):
    results = None
    form = AddPapersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            results = harvest.add_papers_by_id(form.cleaned_data["ids"], by=request.user)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            errors = sum(1 for r in results if r["status"] == "error")
            level = messages.WARNING if errors else messages.SUCCESS
            messages.add_message(
                request, level, f"{len(results) - errors} added or refreshed, {errors} with errors."
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Add papers by arXiv id or URL",
        "form": form,
        "results": results,
        "opts": model_admin.model._meta,
    }
    return render(request, "admin/papers/add_papers.html", context)


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
