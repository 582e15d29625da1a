from django import template

register = template.Library()


@register.filter
def author_list(names):
    """ "A", "A and B", "A, B, and C" — the reference issue's style."""
    names = [str(n) for n in names]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]
