"""Code links: what they are called, and the address a reader wants (not the clone address)."""

import pytest

from papers.links import code_link_label, detect_links


@pytest.mark.parametrize(
    ("text", "code_url"),
    [
        ("Code: https://github.com/THUDM/GLM.git.", "https://github.com/THUDM/GLM"),
        ("Code at https://gitlab.com/a/b.git/ now", "https://gitlab.com/a/b"),
        ("Code: https://github.com/a/b", "https://github.com/a/b"),
        # Only the suffix of a repository address goes.
        ("Code: https://github.com/a/b.github.io", "https://github.com/a/b.github.io"),
    ],
)
def test_detected_code_links_drop_the_git_suffix(text, code_url):
    assert detect_links(text)[0] == code_url


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://github.com/THUDM/GLM", "Code"),
        ("https://huggingface.co/MiniMaxAI/MiniMax-M1-80k", "Model"),
        ("https://huggingface.co/datasets/allenai/c4", "Dataset"),
        ("https://huggingface.co/spaces/org/demo", "Demo"),
        ("https://example.org/code", "Code"),
    ],
)
def test_code_link_label(url, label):
    assert code_link_label(url) == label
