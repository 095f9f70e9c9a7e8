#!/usr/bin/python3
"""Differential-test oracle: ask diskimage-builder's own block_device code.

blocksmith claims to be a drop-in for DIB's ``block_device`` package. This
script is the other side of that claim: it runs DIB's code (not a
re-implementation of it) and prints what DIB decided, as JSON on stdout, so
the TypeScript tests in ``test/differential/`` can compare blocksmith with it.

Run it with the system interpreter that has DIB installed::

    /usr/bin/python3 dib_oracle.py graph  CONFIG
    /usr/bin/python3 dib_oracle.py check  CONFIG [--image-size SIZE]
    /usr/bin/python3 dib_oracle.py layout CONFIG SIZE_BYTES WORKDIR [--params FILE]

``graph``
    ``json.dumps(config_tree_to_graph(yaml.safe_load(CONFIG)))``.
``check``
    What ``dib-block-device init`` + the graph half of ``create`` refuse:
    ``config_tree_to_graph`` then ``create_graph`` (plugin instantiation,
    edges, topological sort).  Nothing is written.
``layout``
    The whole of DIB's ``cmd_init``/``cmd_create``/``cmd_writefstab`` with
    ``exec_sudo`` replaced, per module, by a fake that runs nothing as root:
    ``losetup`` hands out fake ``/dev/loopN`` names, ``sgdisk`` runs for real
    (without sudo) on the sparse image file, and ``kpartx``, ``mkfs``,
    ``mount``, LVM tools etc. are only recorded.  DIB's own ``MBR`` class
    writes MBR tables; DIB's own ``_create_gpt`` builds the sgdisk argv.  The
    tables are then read back with ``sfdisk -J``.

Errors: DIB refusing or crashing prints ``{"error", "exception", "stage"}``
and exits 3; a table DIB wrote but that does not read back as DIB intended
exits 4; bad usage or a missing environment exits 2.

Stages: ``load`` (YAML), ``tree`` (config_tree_to_graph), ``graph``
(create_graph), ``create`` (node create calls: this is where DIB checks
sizes), ``fstab`` (cmd_writefstab), ``readback`` (sfdisk).
"""

import argparse
import concurrent.futures
import json
import logging
import contextlib
import io
import os
import re
import subprocess
import sys
import threading
import traceback

EXIT_DIB_ERROR = 3
EXIT_READBACK = 4
EXIT_USAGE = 2


class OracleUsageError(Exception):
    pass


class DibFailure(Exception):
    def __init__(self, stage, exc):
        super().__init__(str(exc))
        self.stage = stage
        self.exc = exc


def _import_dib():
    # Imported lazily so that "DIB is not installed" is a clean exit 2 with
    # a message, not a traceback.
    try:
        import yaml  # noqa: F401
        from diskimage_builder.block_device import blockdevice  # noqa: F401
    except ImportError as e:
        raise OracleUsageError(
            "diskimage_builder is not importable with %s: %s"
            % (sys.executable, e))


def _load_yaml(config_path):
    import yaml
    try:
        with open(config_path, "rt") as fd:
            return yaml.safe_load(fd)
    except yaml.YAMLError as e:
        raise DibFailure("load", e)


def _tree_to_graph(tree):
    from diskimage_builder.block_device.config import config_tree_to_graph
    try:
        return config_tree_to_graph(tree)
    except Exception as e:  # DIB crashes (KeyError, TypeError...) count too
        raise DibFailure("tree", e)


def _describe(exc):
    msg = str(exc)
    output = getattr(exc, "output", None)
    if output:
        msg = "%s: %s" % (msg, output.strip())
    if isinstance(exc, KeyError):
        msg = "KeyError %s" % msg
    if not msg or isinstance(exc, AssertionError):
        # DIB's bare asserts have no message: say which line fired.
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            last = frames[-1]
            where = "%s:%d: %s" % (os.path.basename(last.filename),
                                   last.lineno, (last.line or "").strip())
            msg = "%s (%s)" % (msg, where) if msg else where
    return msg


def cmd_graph(args):
    _import_dib()
    return _tree_to_graph(_load_yaml(args.config))


def _create_graph(config, params, state):
    from diskimage_builder.block_device.config import create_graph
    try:
        return create_graph(config, params, state)
    except Exception as e:
        raise DibFailure("graph", e)


def cmd_check(args):
    _import_dib()
    from diskimage_builder.block_device.blockdevice import BlockDeviceState
    graph = _tree_to_graph(_load_yaml(args.config))
    params = {
        "mount-base": "/mnt",
        "image-size": args.image_size,
        "image-dir": "/nonexistent",
    }
    state = BlockDeviceState()
    _dg, call_order = _create_graph(graph, params, state)
    out = {
        "graph": graph,
        "call_order": [n.name for n in call_order],
        "sorted_mount_points": [list(x) for x in
                                state.get("sorted_mount_points", [])],
    }
    return out


# --- layout -----------------------------------------------------------------


_current = threading.local()


class FakeSudo(object):
    """Stands in for ``exec_sudo`` in every DIB module.

    Each DIB module gets a dispatcher that knows the module's name (so we
    record who asked for what) and hands the call to the FakeSudo of the
    current thread: ``batch`` lays several configs out at once, because
    sgdisk sleeps a whole second after writing and those sleeps should
    overlap.  Only ``sgdisk`` (level1) is really executed; it only touches
    the image file, which lives in WORKDIR.
    """

    _installed = False
    _install_lock = threading.Lock()

    def __init__(self):
        self.commands = []
        self.loop_count = 0

    def exec_sudo(self, module, cmd):
        from diskimage_builder.block_device.exception import \
            BlockDeviceSetupException
        assert isinstance(cmd, list)
        self.commands.append({"module": module, "argv": list(cmd)})
        tool = cmd[0]
        if module == "localloop" and tool == "losetup" and "--show" in cmd:
            dev = "/dev/loop%d" % (100 + self.loop_count)
            self.loop_count += 1
            return dev + "\n"
        if module == "partitioning" and tool == "sgdisk":
            proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
            out = proc.stdout.decode("utf-8", "backslashreplace")
            if proc.returncode:
                # Same shape as DIB's own exec_sudo failure
                e = BlockDeviceSetupException("exec_sudo failed")
                e.returncode = proc.returncode
                e.cmd = " ".join(["sudo"] + cmd)
                e.output = out
                raise e
            return out
        return ""

    def activate(self):
        """Make this the fake for DIB calls made by the current thread."""
        _current.fake = self
        with FakeSudo._install_lock:
            if FakeSudo._installed:
                return
            from diskimage_builder.block_device import blockdevice
            from diskimage_builder.block_device.level0 import localloop
            from diskimage_builder.block_device.level1 import lvm
            from diskimage_builder.block_device.level1 import partitioning
            from diskimage_builder.block_device.level2 import mkfs
            from diskimage_builder.block_device.level3 import mount
            for name, mod in (("blockdevice", blockdevice),
                              ("localloop", localloop),
                              ("lvm", lvm),
                              ("partitioning", partitioning),
                              ("mkfs", mkfs),
                              ("mount", mount)):
                mod.exec_sudo = FakeSudo._dispatcher(name)
            FakeSudo._installed = True

    @staticmethod
    def _dispatcher(module):
        def exec_sudo(cmd):
            return _current.fake.exec_sudo(module, cmd)
        return exec_sudo


def _load_params(path):
    import yaml
    if path is None:
        return {}
    with open(path, "rt") as fd:
        params = yaml.safe_load(fd) or {}
    if not isinstance(params, dict):
        raise OracleUsageError("params file must hold a mapping")
    return params


def _sfdisk_json(image_path):
    """(partitiontable, warnings, error) as read back by ``sfdisk -J``."""
    proc = subprocess.run(["sfdisk", "-J", image_path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = proc.stderr.decode("utf-8", "backslashreplace").strip()
    if proc.returncode:
        return None, [], err
    # sfdisk prints notes such as "omitting empty partition (5)" on stdout,
    # ahead of the JSON.
    out = proc.stdout.decode("utf-8", "backslashreplace")
    brace = out.find("{")
    if brace < 0:
        return None, [], "no JSON from sfdisk: %r %r" % (out, err)
    warnings = [line for line in out[:brace].split("\n") if line.strip()]
    return json.loads(out[brace:])["partitiontable"], warnings, None


def _partitioning_objects(call_order):
    """The Partitioning plugin objects, in config order.

    They are not graph nodes themselves: DIB only puts their PartitionNodes
    in the graph, and each PartitionNode points back at its parent.
    """
    from diskimage_builder.block_device.level1.partition import PartitionNode
    seen = []
    for node in call_order:
        if isinstance(node, PartitionNode) and \
                not any(p is node.partitioning for p in seen):
            seen.append(node.partitioning)
    return seen


def _partitioning_name(graph, part_obj):
    names = [p.get_name() for p in part_obj.partitions]
    for entry in graph:
        cfg = entry.get("partitioning")
        if cfg is None:
            continue
        if [p.get("name") for p in cfg.get("partitions", [])] == names:
            return cfg["name"]
    return "partitioning_%s" % part_obj.base


def cmd_layout(args):
    _import_dib()
    from diskimage_builder.block_device.blockdevice import BlockDevice
    from diskimage_builder.block_device.blockdevice import BlockDeviceState
    from diskimage_builder.block_device.level0.localloop import LocalLoopNode

    workdir = os.path.abspath(args.workdir)
    if not os.path.isdir(workdir):
        raise OracleUsageError("WORKDIR %s is not a directory" % workdir)

    fake = FakeSudo()
    fake.activate()

    params = {"mount-base": "/mnt"}
    params.update(_load_params(args.params))
    # SIZE and WORKDIR always win over the params file: the images must
    # land in WORKDIR, and SIZE is what the test also passes to blocksmith.
    params["image-size"] = args.size
    params["image-dir"] = workdir
    params["config"] = os.path.abspath(args.config)
    params["build-dir"] = os.path.join(workdir, "build")

    # cmd_init: YAML -> tree_to_graph -> _merge_rootfs_params -> config.json
    bd = BlockDevice(params)
    _load_yaml(args.config)  # to report YAML errors as stage "load"
    try:
        bd.cmd_init()
    except Exception as e:
        raise DibFailure("tree", e)

    # The body of cmd_create, minus its except: clause.  That clause reads
    # `call_order` before create_graph has assigned it, so a config error
    # there surfaces as UnboundLocalError chained to the real exception.
    state = BlockDeviceState()
    _dg, call_order = _create_graph(bd.config, bd.params, state)

    for node in call_order:
        if isinstance(node, LocalLoopNode):
            image_dir = os.path.abspath(node.image_dir)
            if image_dir != workdir:
                raise OracleUsageError(
                    "local_loop %s would write to %s, outside WORKDIR; "
                    "the oracle refuses" % (node.name, image_dir))

    try:
        for node in call_order:
            node.create()
    except Exception as e:
        raise DibFailure("create", e)
    state.save_state(bd.state_json_file_name)

    # cmd_writefstab iterates state['mount_order'], which only exists once
    # a mount node has run: with no mount at all it dies with KeyError.
    # Record that instead of failing, so the partition layout of such a
    # config can still be compared.
    fstab, fstab_error = [], None
    try:
        bd.cmd_writefstab()
        with open(os.path.join(bd.state_dir, "fstab"), "rt") as fd:
            fstab = [line for line in fd.read().split("\n") if line]
    except Exception as e:
        fstab_error = "%s: %s" % (_exception_name(e), _describe(e))

    # getval answers from config.json, as disk-image-create asks for them after
    # init (cmd_getval prints; it asserts when there is no "/" mount: None).
    getval = {}
    for symbol in ("root-label", "root-fstype", "mount-points"):
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured):
                bd.cmd_getval(symbol)
            getval[symbol] = captured.getvalue()
        except Exception:
            getval[symbol] = None

    disks = {}
    for node in call_order:
        if isinstance(node, LocalLoopNode):
            disks[node.name] = {
                "path": node.filename,
                "sizeBytes": os.path.getsize(node.filename),
            }

    out = {
        "disks": disks,
        "partitionings": {},
        "mount_order": list(state.get("mount_order", [])),
        "sorted_mount_points": [list(x) for x in
                                state.get("sorted_mount_points", [])],
        "fstab": fstab,
        "fstab_error": fstab_error,
        "commands": fake.commands,
        "getval": getval,
    }
    problems = []

    for part_obj in _partitioning_objects(call_order):
        name = _partitioning_name(bd.config, part_obj)
        image_path = state["blockdev"][part_obj.base]["image"]
        # DIB names the partition devices /dev/mapper/loopNpK where K is the
        # kernel partition number (MBR.add_partition's return value, or the
        # sgdisk pnum).
        number_to_node = {}
        for p in part_obj.partitions:
            dev = state["blockdev"][p.get_name()]["device"]
            number = int(re.search(r"p(\d+)$", dev).group(1))
            number_to_node[number] = p.get_name()

        table, warnings, err = _sfdisk_json(image_path)
        entry = {
            "base": part_obj.base,
            "dib_label": part_obj.label,
            "align": part_obj.align,
            "image": image_path,
            "dib_numbers": {str(k): v for k, v in
                            sorted(number_to_node.items())},
        }
        out["partitionings"][name] = entry
        if table is None:
            problems.append("%s: sfdisk cannot read %s back: %s"
                            % (name, image_path, err))
            continue
        entry["label"] = table["label"]
        entry["sfdisk_warnings"] = warnings
        entry["sectorsize"] = table.get("sectorsize", 512)
        for k in ("id", "firstlba", "lastlba"):
            if k in table:
                entry[k] = table[k]
        parts = []
        for sp in table.get("partitions", []):
            number = int(sp["node"][len(image_path):])
            part = {
                "number": number,
                "node": sp["node"],
                "start": sp["start"],
                "size": sp["size"],
                "type": sp["type"],
                "bootable": bool(sp.get("bootable", False)),
                "dib_node": number_to_node.get(number),
            }
            if "name" in sp:
                part["name"] = sp["name"]
            parts.append(part)
        entry["partitions"] = parts

        found = {p["number"] for p in parts}
        missing = sorted(set(number_to_node) - found)
        if missing:
            problems.append(
                "%s: DIB created partition(s) %s but sfdisk does not see "
                "them" % (name, ", ".join(
                    "%d (%s)" % (n, number_to_node[n]) for n in missing)))

    if problems:
        raise _Readback(problems, out)
    return out


class _Readback(Exception):
    def __init__(self, problems, partial):
        super().__init__("; ".join(problems))
        self.partial = partial


def _exception_name(exc):
    cls = type(exc)
    if cls.__module__ in ("builtins", "exceptions"):
        return cls.__qualname__
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def _run(func, args):
    """Run one command; return (exit_code, json_object or None)."""
    try:
        return 0, func(args)
    except DibFailure as f:
        if os.environ.get("DIB_ORACLE_DEBUG"):
            traceback.print_exception(type(f.exc), f.exc,
                                      f.exc.__traceback__)
        return EXIT_DIB_ERROR, {"error": _describe(f.exc),
                                "exception": _exception_name(f.exc),
                                "stage": f.stage}
    except _Readback as r:
        return EXIT_READBACK, {"error": str(r), "exception": "Readback",
                               "stage": "readback", "partial": r.partial}


def cmd_batch(args):
    """Several configs in one interpreter (DIB + networkx take ~0.3 s to
    import).  stdin: a JSON list of {"config", "size", "workdir", "params"?};
    stdout: a list of {"config", "graph", "check", "layout"}, each of those
    being {"exit": code, "result": object}.  "layout" is left out when an
    item has no "workdir".  Items run on --jobs threads: the Python work is
    small and serialised by the GIL, but sgdisk's one-second sleep after
    each write is not.
    """
    _import_dib()
    items = json.load(sys.stdin)

    def one(item):
        ns = argparse.Namespace(config=item["config"],
                                size=item.get("size", "4GiB"),
                                image_size=item.get("size", "4GiB"),
                                workdir=item.get("workdir"),
                                params=item.get("params"))
        out = {"config": item["config"]}
        for name, func in (("graph", cmd_graph), ("check", cmd_check),
                           ("layout", cmd_layout)):
            if name == "layout" and not ns.workdir:
                continue
            try:
                code, obj = _run(func, ns)
            except OracleUsageError as e:
                code, obj = EXIT_USAGE, {"error": str(e), "stage": "usage"}
            out[name] = {"exit": code, "result": obj}
        return out

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        return list(ex.map(one, items))


def main(argv):
    parser = argparse.ArgumentParser(
        prog="dib_oracle.py",
        description="Print what diskimage-builder's block_device decides.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("graph", help="config_tree_to_graph as JSON")
    p.add_argument("config")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("check", help="tree_to_graph + create_graph")
    p.add_argument("config")
    p.add_argument("--image-size", default="4GiB")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("layout", help="lay out partitions on sparse files")
    p.add_argument("config")
    p.add_argument("size", help="image size (bytes or a DIB size spec)")
    p.add_argument("workdir")
    p.add_argument("--params", help="YAML params, like DIB's --params")
    p.set_defaults(func=cmd_layout)

    p = sub.add_parser("batch", help="graph+check+layout for a JSON list "
                       "of configs read from stdin")
    p.add_argument("--jobs", type=int, default=8,
                   help="configs laid out at once (threads)")
    p.set_defaults(func=cmd_batch)

    args = parser.parse_args(argv)
    # DIB logs warnings (e.g. "UUID will not be written for fs type
    # [vfat]") through the root logger's last-resort handler; keep stderr
    # quiet unless asked.
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if os.environ.get("DIB_ORACLE_DEBUG")
        else logging.CRITICAL)
    try:
        code, obj = _run(args.func, args)
    except OracleUsageError as e:
        sys.stderr.write("dib_oracle: %s\n" % e)
        return EXIT_USAGE
    sys.stdout.write(json.dumps(obj))
    sys.stdout.write("\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
