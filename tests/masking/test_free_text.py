"""Free text shown with no known viewer is masked.

An admin column rendered outside ViewerAdminMixin has no viewer (current_viewer() is None):
display_text used to fail there on None.has_perm; nobody is there to be shown the raw text.
"""

from scrm.masking.detectors import mask_text
from scrm.masking.free_text import display_text, shows_raw_content


def test_no_viewer_sees_free_text_through_the_detectors():
    text = "call me on 13812345678"
    assert not shows_raw_content(None)
    assert display_text(None, text) == mask_text(text) != text
