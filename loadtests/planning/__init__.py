"""Planning: from a profile, overrides and the machine to the cells of a run, before
anything starts. Nothing here starts a server or calls the network; every mistake is a
PlanError raised before the run begins."""


class PlanError(ValueError):
    """A bad profile, override or name; the message names it and the valid choices."""
