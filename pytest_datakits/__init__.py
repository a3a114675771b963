"""pytest-datakits: the pytest plugin (options, markers, fixtures, report) over ``framework``."""
