"""How the refusals of the publishing and editing functions reach API clients (409s).

Registered with the API's one exception handler (curation/api_errors.py); the
views let these errors propagate.
"""

from curation.api_errors import APIConflict, api_error

from ..editing import EditConflict
from ..publishing import TransitionError


@api_error(TransitionError)
def transition_refused(error):
    return APIConflict(
        error.problems[0] if len(error.problems) == 1 else "The transition was refused.",
        code="transition_refused",
        details={"problems": error.problems},
    )


@api_error(EditConflict)
def edit_conflict(error):
    return APIConflict(
        str(error),
        code="edit_conflict",
        details={
            "lock_version": error.lock_version,
            "changes": [
                {key: str(value) if value is not None else None for key, value in change.items()}
                for change in error.changes
            ],
            "editors": [str(editor) for editor in error.editors],
        },
    )
