"""Case handling: every item's deadlines, and the figures bureaus are judged by.

* :mod:`streams.cases.config`     typed settings from ``config/cases.yaml``
* :mod:`streams.cases.events`     validation and normalisation of one case event (pure)
* :mod:`streams.cases.deadlines`  working-day calendar and the clocks of an item (pure)
* :mod:`streams.cases.kpis`       the handling figures of a set of cases (pure)
* :mod:`streams.cases.store`      the worker's atomic Redis steps (thin adapter)
* :mod:`streams.cases.read`       ``kpis(...)`` and ``due_items(...)`` for the API and the screens
* :mod:`streams.cases.agents`     the worker's timer: 提醒卡 / 催办卡 / overdue notices, held events
"""
