"""Print the requirements of pyproject.toml's dependencies and the named extras, one per line.

    datakits-requirements pyproject.toml postgres dbt ...

Extras that name the project itself (``pytest-datakits[postgres]``) are followed.
"""

import re
import sys
import tomllib

with open(sys.argv[1], "rb") as file:
    project = tomllib.load(file)["project"]
extras = project.get("optional-dependencies", {})
name = project["name"]
seen: set[str] = set()
wanted = list(project.get("dependencies", []))
todo = sys.argv[2:]
while todo:
    extra = todo.pop()
    if extra in seen:
        continue
    seen.add(extra)
    for requirement in extras[extra]:
        own = re.fullmatch(rf"{re.escape(name)}\[(.+)\]", requirement.replace(" ", ""))
        if own:
            todo.extend(own.group(1).split(","))
        else:
            wanted.append(requirement)
print("\n".join(dict.fromkeys(wanted)))
