"""Pure domain: errors and value rules shared by every service. Never imports trio, quart or I/O."""
