"""neurometarl: meta-reinforcement-learning agents recorded like neurons (Wang et al. 2018 reproduced).

The data flow: protocol (``neurometarl.tasks``) → subject (``neurometarl.agents`` network or
``neurometarl.models`` baseline) → frozen session (``neurometarl.lab``) → ``xarray`` recording →
analyses (``neurometarl.analysis``) → figures (``neurometarl.figures``).
"""

__version__ = "0.1.0"
