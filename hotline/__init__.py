"""hotline: the back end of a government-services support line.

One process routes every contact (call, chat, callback, form) to an operator with the right
skill, urgent ones first and each within its deadline. See README.md for how to run it.
"""

__version__ = "0.1.0"
