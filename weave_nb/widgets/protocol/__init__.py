"""The kernel ⇄ browser protocol of the widgets; moved whole into ``_messages`` so that its
history follows the module, before it is split into modules of one job each."""

from ._messages import *  # noqa: F403
from ._messages import __all__, _mismatch  # noqa: F401
