"""The Dash screens: the command-centre wall (/wall), the duty console (/duty) and the
bureau heads' review (/review), one app served by ``python -m dashboard``. See ``dashboard.app``."""
