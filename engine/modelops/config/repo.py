"""The ops repository on disk: which files the engine reads, and where their text and positions are.

The engine reads only `environments/*/environment.y?ml`, `environments/*/models/**/*.y?ml` and
`policies/**/*.y?ml`. Paths are kept repository-relative with forward slashes, sorted, so every
later stage sees the same order on every machine.

The repository is untrusted input: a file is read only if it is a regular file inside the repository (a
link is followed only when it stays inside) no larger than the limit, and a FIFO is opened without waiting for
a writer (`modelops.base.paths.read_inside`, the one reader of every file the repository names). A link to a
folder is never followed; where it stands in for an environment's `models/` folder it is an error (MO018), not a
warning: read as an environment without models, it would plan the retirement of every model serving there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.diagnostics import Diagnostic, did_you_mean, error, warning
from modelops.base.paths import Refusal, read_inside, size_text
from modelops.config.cache import ConfigCache, file_digest
from modelops.config.loader import (
    DEFAULT_LIMITS,
    Limits,
    SourceDocument,
    SourceFile,
    SourceMap,
    Span,
    decode,
    load_text,
)
from modelops.config.loader import source_map as build_source_map

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Placement:
    """What the layout says about a file: the kinds it may hold and the environment it belongs to."""

    kinds: tuple[str, ...]
    environment: str | None


_POLICY_KINDS = ("AlertPolicy", "EscalationPolicy", "ScalingPolicy", "Guardrail")


def placement(rel: str) -> Placement | None:
    """Where `rel` sits in the layout, or None when the engine does not read it."""
    parts = rel.split("/")
    if not rel.endswith(YAML_SUFFIXES):
        return None
    if parts[0] == "policies" and len(parts) >= 2:
        return Placement(_POLICY_KINDS, None)
    if parts[0] != "environments" or len(parts) < 3:
        return None
    if len(parts) == 3 and parts[2] in ("environment.yaml", "environment.yml"):
        return Placement(("Environment",), parts[1])
    if len(parts) >= 4 and parts[2] == "models":
        return Placement(("Model",), parts[1])
    return None


def discover(root: Path) -> list[str]:
    """Every configuration file of the repository, repository-relative and sorted."""
    return scan(root)[0]


_TOPS = ("environments", "policies")


def scan(root: Path) -> tuple[list[str], list[str]]:
    """The configuration files of the repository, and what lies beside them that the engine does not read but a
    person may think it does: YAML files out of place (`environments/staging/model/x.yaml`, `policy/x.yaml`,
    `x.YAML`), folders named like YAML files or linked (ending in `/`, see `_walk`), and files directly in
    `environments/` (`environments/notes.txt`). Both repository-relative and sorted."""
    found: list[str] = []
    for top in (*_TOPS, *_near_misses(root)):
        found.extend(_walk(root, root / top))
    read = [rel for rel in found if placement(rel) is not None]
    return sorted(read), sorted(set(found).difference(read))


def _near_misses(root: Path) -> list[str]:
    """Top-level folders whose name is close to environments/ or policies/ (policy/, Environments/, envs/)."""
    try:
        names = [entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith(".")]
    except OSError:
        return []
    return [name for name in names if name not in _TOPS and _meant_top(name) is not None]


def _meant_top(name: str) -> str | None:
    lowered = name.lower()
    if lowered in ("env", "envs", "environment"):
        return "environments"
    return did_you_mean(lowered, _TOPS) if len(lowered) >= 5 else None


def _walk(root: Path, directory: Path) -> Iterator[str]:
    """YAML files under `directory` (any case of suffix), skipping hidden folders and what the engine renders;
    ending in `/`, the links to folders on the way, which the walk does not follow, and the folders named like YAML
    files (`models/x.yaml/`), whose files it reads; and the other files directly in `environments/`, except notes
    (`*.md`: a README there is documentation, not a misplaced environment). See `not_read`."""
    if not directory.is_dir():
        return
    for base, dirs, files in os.walk(directory):
        rel_base = Path(base).relative_to(root).as_posix()
        generated = rel_base.count("/") == 1 and rel_base.startswith("environments/")  # environments/<env>/rendered
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (generated and d == "rendered"))
        yield from (f"{rel_base}/{d}/" for d in dirs
                    if (Path(base) / d).is_symlink() or d.lower().endswith(YAML_SUFFIXES))
        for name in files:
            if name.startswith("."):
                continue
            if name.lower().endswith(YAML_SUFFIXES) or (rel_base == "environments" and not name.endswith(".md")):
                yield f"{rel_base}/{name}"


def _environment_folders(root: Path) -> list[Path]:
    """The real folders under environments/ (discovery does not follow a linked one), sorted."""
    try:
        return sorted(Path(entry.path) for entry in os.scandir(root / "environments")
                      if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."))
    except OSError:
        return []


def models_links(root: Path) -> list[str]:
    """The `environments/<env>/models/` that are symbolic links (to a folder, a file or nothing), one per
    environment folder. Looked at without walking the tree, so a read of a few files (a scoped plan) sees them."""
    return [f"environments/{folder.name}/models/" for folder in _environment_folders(root)
            if (folder / "models").is_symlink()]


def _is_models_folder(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) == 4 and parts[0] == "environments" and parts[2] == "models" and parts[3] == ""


def link_target(root: Path, rel: str) -> str:
    """Where the link `rel` points, as written in it (the link is never followed)."""
    try:
        return str((root / rel.rstrip("/")).readlink())
    except OSError as exc:
        return f"(unreadable: {exc.strerror or exc})"


def linked_models(root: Path, rel: str) -> Diagnostic:
    """An error for an environment's `models/` folder that is a link (`rel` ends in `/`), naming where it points."""
    link = rel.rstrip("/")
    environment = link.split("/")[1]
    return error("MO018", f"{link} is a symbolic link to {link_target(root, rel)}: modelops does not follow it, so "
                          f'environment "{environment}" would have no models and a plan would retire every model '
                          "serving there", file=link,
                 hint=f"replace the link with a real folder holding the model files of {environment} (to share a "
                      "model between environments, copy its file: links to folders are never followed)")


def without_models(root: Path) -> list[tuple[str, str]]:
    """Each environment (name, its environment file) whose `models/` folder does not exist at all. An empty folder
    is not missing (every model retired, on purpose), and a link is an error of its own (`linked_models`)."""
    missing = []
    for folder in _environment_folders(root):
        models = folder / "models"
        spec = next((name for name in ("environment.yaml", "environment.yml") if (folder / name).is_file()), None)
        if spec is not None and not models.is_symlink() and not models.is_dir():
            missing.append((folder.name, f"environments/{folder.name}/{spec}"))
    return missing


def not_read(root: Path, rel: str) -> Diagnostic:
    """A warning for what `scan` found beside the configuration: a YAML file the engine does not read, saying where
    it would be read; a link to a folder (`rel` ends in `/`), whose files are not read wherever it leads (following
    links to folders would let a repository reach outside itself, or into itself in a loop); a folder named like a
    YAML file, which a person may take for the file itself; a file directly in `environments/`, which holds only
    environment folders."""
    path = rel.rstrip("/")
    if rel.endswith("/") and (root / path).is_symlink():
        return warning("MO017", f"{rel} is a link to a folder: modelops does not follow it, so nothing in it is read",
                       file=path, hint="move the files here, or link each file (a link to a file inside the "
                                       "repository is read)")
    if rel.endswith("/"):
        name = path.rpartition("/")[2]
        return warning("MO022", f"{path} is a folder, not a YAML file: modelops reads the YAML files inside it, and "
                                f"nothing is read from {name} itself", file=path, line=1, column=1,
                       hint=f"rename the folder without its .{name.rpartition('.')[2]} suffix, or replace it with the "
                            "file it was meant to be")
    if not rel.lower().endswith(YAML_SUFFIXES):
        return warning("MO023", f"{rel} is not read by modelops: environments/ holds only environment folders",
                       file=rel, line=1, column=1, hint=_where_instead(rel))
    return warning("MO017", f"{rel} is not read by modelops", file=rel, line=1, column=1, hint=_where_instead(rel))


def _where_instead(rel: str) -> str:
    parts = rel.split("/")
    name = parts[-1]
    if parts[0] == "environments" and len(parts) == 2 and not name.lower().endswith(YAML_SUFFIXES):
        return ("move it into an environment's folder (environments/<env>/), or keep notes in a Markdown file such "
                "as environments/README.md, which modelops leaves alone")
    if not name.endswith(YAML_SUFFIXES):
        return f"modelops reads files ending in .yaml or .yml (lowercase): rename it to {name.rsplit('.', 1)[0]}.yaml"
    if parts[0] not in _TOPS:
        top = _meant_top(parts[0])
        return f'did you mean {"/".join([top or "policies", *parts[1:]])}?'
    if parts[0] == "environments" and len(parts) == 2:
        return "environments/ holds one folder per environment: environments/<env>/environment.yaml and models/"
    environment = "/".join(parts[:2])
    if len(parts) == 3:
        if did_you_mean(name.rsplit(".", 1)[0].lower(), ["environment"]):
            return f"did you mean {environment}/environment.yaml?"
        return f"a model belongs in {environment}/models/{name}; the environment in {environment}/environment.yaml"
    folder = did_you_mean(parts[2].lower(), ["models"])
    if folder is not None:
        return f"did you mean {environment}/models/{'/'.join(parts[3:])}?"
    return f"models belong in {environment}/models/; modelops reads nothing else under {environment}/"


@dataclass
class Sources:
    """Files as loaded, plus source maps computed on first use (only files with diagnostics need one).

    `digests` holds the SHA-256 of each file's bytes (empty when loaded without the cache)."""

    root: Path
    files: dict[str, SourceFile]
    limits: Limits = DEFAULT_LIMITS
    digests: dict[str, str] = field(default_factory=dict)
    unread: list[Diagnostic] = field(default_factory=list)  # YAML files beside the configuration, not read
    _maps: dict[str, SourceMap] = field(default_factory=dict)

    def documents(self) -> Iterator[SourceDocument]:
        for source in self.files.values():
            yield from source.documents

    def load_diagnostics(self) -> list[Diagnostic]:
        return [*self.unread, *(d for source in self.files.values() for d in source.diagnostics)]

    def text(self, path: str) -> str | None:
        source = self.files.get(path)
        return source.text if source is not None else None

    def locate(self, document: SourceDocument, ptr: str, *, at_key: bool = False) -> Span | None:
        positions = self._maps.get(document.file)
        if positions is None:
            positions = build_source_map(document.file, self.files[document.file].text, self.limits)
            self._maps[document.file] = positions
        return positions.locate(document.index, ptr, at_key=at_key)


def load_repo(root: Path, paths: Iterable[str] | None = None, limits: Limits = DEFAULT_LIMITS,
              cache: ConfigCache | None = None) -> Sources:
    """Read every configuration file (or the given repository-relative ones), reusing cached parses."""
    sources = Sources(root, {}, limits)
    if paths is None:
        paths, unread = scan(root)
        unread = [rel for rel in unread if not _is_models_folder(rel)]  # errors, below
        sources.unread = [not_read(root, rel) for rel in unread]
        # part of the repository's digest: a cached outcome without the warnings must not be recalled
        sources.digests.update((rel, f"not read: {d.code}") for rel, d in zip(unread, sources.unread, strict=True))
    links = models_links(root)
    sources.unread += [linked_models(root, rel) for rel in links]
    # where the link points is in the error: a link pointed elsewhere must not recall the old message
    sources.digests.update((rel, f"link to {link_target(root, rel)}") for rel in links)
    for rel, raw, problem in read_contained(root, paths, limits.max_file_bytes):
        sources.files[rel] = _loaded(rel, raw, problem, limits, cache, sources.digests)
    return sources


def read_contained(root: Path, paths: Iterable[str], limit: int = DEFAULT_LIMITS.max_file_bytes,
                   ) -> Iterator[tuple[str, bytes | None, Refusal | None]]:
    """Each file with its bytes, or None and why not (see `modelops.base.paths.read_inside`: a file outside
    the repository, behind a link out of it, not regular, or over `limit` is never read, so never shown). A
    few directories hold every file: each is checked once."""
    parents: dict[str, bool] = {}
    for rel in paths:
        found = read_inside(root, rel, limit, parents)
        yield (rel, None, found) if isinstance(found, Refusal) else (rel, found, None)


def _loaded(rel: str, raw: bytes | None, problem: Refusal | None, limits: Limits, cache: ConfigCache | None,
            digests: dict[str, str]) -> SourceFile:
    if raw is None:
        assert problem is not None  # read_contained gives the bytes or the refusal
        return _unreadable(rel, problem, limits, digests)
    if cache is None:
        return load_text(rel, raw, limits)
    digest = digests[rel] = file_digest(raw)
    found = cache.lookup(rel, digest, decode(rel, raw, limits)[0])
    if found is not None:
        return found
    loaded = load_text(rel, raw, limits)
    cache.store(rel, digest, loaded)
    return loaded


def _unreadable(rel: str, problem: Refusal, limits: Limits, digests: dict[str, str]) -> SourceFile:
    # The problem is part of the repository's digest: a cached "valid" must not be recalled for a repository
    # whose file cannot be read (the file was never hashed, so the digests alone would still match).
    digests[rel] = f"unreadable: {problem.reason}"
    if problem.size is not None:
        limit = size_text(limits.max_file_bytes)
        refused = error("MO011", f"file is {size_text(problem.size)}, over the {limit} limit", file=rel, line=1,
                        column=1, hint="split it into several files")
    else:
        refused = error("MO014", f"cannot read file: {problem.reason}", file=rel, line=1, column=1,
                        hint="modelops reads regular files inside the repository that it has permission to read")
    return SourceFile(rel, "", (), (refused,))
