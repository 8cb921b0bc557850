"""The sandbox: attack programs must never succeed; legitimate PAL-style programs must work."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import NamedTuple

import pytest

from localchain.errors import ConfigError, SandboxError
from localchain.sandbox import (
    ALLOWED_MODULES,
    ProgramMemoryError,
    ProgramOutputError,
    ProgramRefusedError,
    ProgramResult,
    ProgramRuntimeError,
    ProgramSyntaxError,
    ProgramTimeoutError,
    SandboxLimits,
    _allowlist,
    _policy,
    _runner,
    arun_program,
    arun_program_with_output,
    run_program,
    run_program_with_output,
    validate_program,
)


def solution(body: str, prelude: str = "") -> str:
    """A program whose ``solution()`` runs ``body``."""
    return (
        textwrap.dedent(prelude)
        + "def solution():\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
    )


# ------------------------------------------------------------------ attacks refused statically


class Attack(NamedTuple):
    """A program that attacks one construct, and the words the refusal must name it with.

    ``refuses`` is matched against ``ProgramRefusedError.reason``: an attack refused for some
    other construct (an earlier typo, a later attribute in the same chain) does not pass, and
    neither does one that is refused only because it does not parse.
    """

    code: str
    refuses: str


REFUSED = {
    # imports by every route
    "import_os": Attack(solution("return 1", "import os\n"), "import of module 'os'"),
    "from_os_import_system": Attack(
        solution("return system('id')", "from os import system\n"), "import of module 'os'"
    ),
    "import_os_path": Attack(
        solution("return 1", "import os.path\n"), "import of module 'os.path'"
    ),
    "import_inside_function": Attack(
        solution("import subprocess\nreturn 1"), "import of module 'subprocess'"
    ),
    "import_socket": Attack(
        solution("import socket\nreturn socket.socket()"), "import of module 'socket'"
    ),
    "import_ctypes": Attack(solution("import ctypes\nreturn 1"), "import of module 'ctypes'"),
    "import_sys": Attack(solution("import sys\nreturn sys.modules"), "import of module 'sys'"),
    "import_builtins": Attack(
        solution("import builtins\nreturn builtins.eval('1')"), "import of module 'builtins'"
    ),
    "import_importlib": Attack(
        solution("import importlib\nreturn importlib.import_module('os')"),
        "import of module 'importlib'",
    ),
    "from_importlib": Attack(
        solution("from importlib import import_module\nreturn 1"), "import of module 'importlib'"
    ),
    "dunder_import": Attack(solution("return __import__('os')"), "name '__import__'"),
    "import_star": Attack(solution("return sqrt(4)", "from math import *\n"), "importing '*'"),
    "relative_import": Attack(
        solution("return 1", "from . import _policy\n"),
        "relative imports are not allowed in the sandbox",
    ),
    "import_alias_os": Attack(solution("import os as math\nreturn 1"), "import of module 'os'"),
    "alias_math_as_os_then_system": Attack(
        solution("import math as os\nreturn os.system('id')"), "import alias 'os'"
    ),
    "math_loader": Attack(
        solution("import math\nreturn math.__loader__"), "attribute '__loader__'"
    ),
    "math_spec": Attack(solution("import math\nreturn math.__spec__"), "attribute '__spec__'"),
    "math_spec_loader": Attack(
        solution("import math\nreturn math.spec.loader"), "attribute 'loader'"
    ),
    "fractions_sys": Attack(solution("import fractions\nreturn fractions.sys"), "attribute 'sys'"),
    "from_fractions_import_sys": Attack(
        solution("from fractions import sys\nreturn 1"), "importing 'sys'"
    ),
    "datetime_sys": Attack(solution("import datetime\nreturn datetime.sys"), "attribute 'sys'"),
    "random_os": Attack(solution("import random\nreturn random._os"), "attribute '_os'"),
    "decimal_internals": Attack(
        solution("import decimal\nreturn decimal._decimal"), "attribute '_decimal'"
    ),
    "decimal_sys": Attack(solution("import decimal\nreturn decimal.sys"), "attribute 'sys'"),
    "statistics_sys": Attack(
        solution("import statistics\nreturn statistics.sys"), "attribute 'sys'"
    ),
    "functools_private": Attack(
        solution("import functools\nreturn functools._lru_cache_wrapper"),
        "attribute '_lru_cache_wrapper'",
    ),
    "collections_abc": Attack(
        solution("import collections\nreturn collections.abc"), "attribute 'abc'"
    ),
    "import_operator": Attack(
        solution("import operator\nreturn operator.attrgetter('x')"), "import of module 'operator'"
    ),
    "import_re": Attack(solution("import re\nreturn 1"), "import of module 're'"),
    "import_pickle": Attack(
        solution("import pickle\nreturn pickle.loads(b'')"), "import of module 'pickle'"
    ),
    "import_io": Attack(solution("import io\nreturn 1"), "import of module 'io'"),
    "import_pathlib": Attack(
        solution("from pathlib import Path\nreturn Path('x').write_text('y')"),
        "import of module 'pathlib'",
    ),
    "import_threading": Attack(
        solution("import threading\nreturn 1"), "import of module 'threading'"
    ),
    "import_multiprocessing": Attack(
        solution("import multiprocessing\nreturn 1"), "import of module 'multiprocessing'"
    ),
    "import_gc": Attack(solution("import gc\nreturn gc.get_objects()"), "import of module 'gc'"),
    "import_inspect": Attack(solution("import inspect\nreturn 1"), "import of module 'inspect'"),
    "import_time": Attack(
        solution("import time\nreturn time.sleep(100)"), "import of module 'time'"
    ),
    "import_signal": Attack(solution("import signal\nreturn 1"), "import of module 'signal'"),
    "import_asyncio": Attack(solution("import asyncio\nreturn 1"), "import of module 'asyncio'"),
    # introspection walks
    "subclasses_walk": Attack(
        solution("return ().__class__.__base__.__subclasses__()"), "attribute '__subclasses__'"
    ),
    "list_class": Attack(solution("return [].__class__"), "attribute '__class__'"),
    "str_mro": Attack(solution("return ''.__class__.__mro__"), "attribute '__mro__'"),
    "int_class": Attack(solution("return (1).__class__"), "attribute '__class__'"),
    "type_call": Attack(solution("return type(1)"), "name 'type'"),
    "type_three_args": Attack(solution("return type('A', (), {})"), "name 'type'"),
    "object_name": Attack(solution("return object"), "name 'object'"),
    "super_call": Attack(solution("return super()"), "name 'super'"),
    "vars_call": Attack(solution("return vars()"), "name 'vars'"),
    "globals_call": Attack(solution("return globals()"), "name 'globals'"),
    "locals_call": Attack(solution("return locals()"), "name 'locals'"),
    "dir_call": Attack(solution("return dir()"), "name 'dir'"),
    "getattr_string": Attack(solution("return getattr((), 'count')"), "name 'getattr'"),
    "getattr_dunder": Attack(solution("return getattr((), '__class__')"), "name 'getattr'"),
    "setattr_call": Attack(solution("return setattr(solution, 'x', 1)"), "name 'setattr'"),
    "hasattr_call": Attack(solution("return hasattr(1, 'real')"), "name 'hasattr'"),
    "id_call": Attack(solution("return id(1)"), "name 'id'"),
    "builtins_name": Attack(solution("return __builtins__"), "name '__builtins__'"),
    "builtins_subscript": Attack(
        solution("return __builtins__['eval']('1')"), "name '__builtins__'"
    ),
    "module_dunder_name": Attack(solution("return __name__"), "name '__name__'"),
    "loader_name": Attack(solution("return __loader__"), "name '__loader__'"),
    "lambda_default_getattr": Attack(
        solution("f = lambda g=getattr: g\nreturn f()(1, 'real')"), "name 'getattr'"
    ),
    "def_default_eval": Attack(
        solution("return 1", "def helper(x=eval):\n    return x('1')\n"), "name 'eval'"
    ),
    "lambda_default_dunder_import": Attack(
        solution("f = lambda i=__import__: i('os')\nreturn f()"), "name '__import__'"
    ),
    "generator_gi_frame": Attack(
        solution("g = (x for x in [1])\nreturn g.gi_frame"), "attribute 'gi_frame'"
    ),
    "frame_f_globals": Attack(solution("x = 1\nreturn x.f_globals"), "attribute 'f_globals'"),
    "generator_gi_code": Attack(
        solution("g = (x for x in [1])\nreturn g.gi_code"), "attribute 'gi_code'"
    ),
    "frame_f_back_only": Attack(solution("x = 1\nreturn x.f_back"), "attribute 'f_back'"),
    "frame_f_builtins": Attack(solution("x = 1\nreturn x.f_builtins"), "attribute 'f_builtins'"),
    "coroutine_cr_frame": Attack(solution("x = 1\nreturn x.cr_frame"), "attribute 'cr_frame'"),
    "asyncgen_ag_frame": Attack(solution("x = 1\nreturn x.ag_frame"), "attribute 'ag_frame'"),
    "code_co_code": Attack(solution("x = 1\nreturn x.co_code"), "attribute 'co_code'"),
    "traceback_dunder": Attack(
        solution("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    return e.__traceback__"),
        "attribute '__traceback__'",
    ),
    "traceback_tb_frame": Attack(
        solution(
            "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    return e.__traceback__.tb_frame"
        ),
        "attribute 'tb_frame'",
    ),
    "traceback_no_underscore_chain": Attack(
        solution(
            "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    return e.with_traceback(None)"
        ),
        "attribute 'with_traceback'",
    ),
    "tb_next": Attack(solution("x = 1\nreturn x.tb_next"), "attribute 'tb_next'"),
    "function_globals": Attack(solution("return solution.__globals__"), "attribute '__globals__'"),
    "function_code": Attack(solution("return (lambda: 0).__code__"), "attribute '__code__'"),
    "function_closure": Attack(solution("return solution.__closure__"), "attribute '__closure__'"),
    "builtin_self_module": Attack(
        solution("import math\nreturn math.sqrt.__self__"), "attribute '__self__'"
    ),
    "print_self": Attack(solution("return print.__self__"), "attribute '__self__'"),
    "class_mro_method": Attack(
        solution("from fractions import Fraction\nreturn Fraction.mro()"), "attribute 'mro'"
    ),
    "int_subclasses": Attack(solution("return int.__subclasses__()"), "attribute '__subclasses__'"),
    "dunder_string_constant": Attack(
        solution("return '__class__'"), "string constants may not spell a dunder name ('__class__'"
    ),
    "dunder_string_in_dict": Attack(
        solution("return dict(**{'__class__': 1})"),
        "string constants may not spell a dunder name ('__class__'",
    ),
    "dunder_keyword": Attack(solution("return dict(__class__=1)"), "keyword argument '__class__'"),
    "underscore_name": Attack(solution("_secret = 1\nreturn _secret"), "name '_secret'"),
    "underscore_argument": Attack(
        solution("return 1", "def helper(_x):\n    return _x\n"), "argument '_x'"
    ),
    "underscore_function": Attack(
        solution("return 1", "def _helper():\n    return 1\n"), "function '_helper'"
    ),
    "exception_obj_attr": Attack(
        solution("try:\n    [].pop()\nexcept IndexError as e:\n    return e.obj"), "attribute 'obj'"
    ),
    "stop_iteration_value": Attack(solution("x = 1\nreturn x.value"), "attribute 'value'"),
    "base_exception_name": Attack(
        solution("try:\n    pass\nexcept BaseException:\n    pass\nreturn 1"),
        "name 'BaseException'",
    ),
    # format-string tricks
    "format_dunder": Attack(solution("return '{0.__class__}'.format(1)"), "attribute 'format'"),
    "format_plain_attribute": Attack(solution("return '{0.real}'.format(1)"), "attribute 'format'"),
    "format_map": Attack(solution("return '{x}'.format_map({'x': 1})"), "attribute 'format_map'"),
    "str_format_unbound": Attack(solution("return str.format('{0}', 1)"), "attribute 'format'"),
    "string_formatter": Attack(
        solution("import string\nreturn string.Formatter()"), "attribute 'Formatter'"
    ),
    "from_string_formatter": Attack(
        solution("from string import Formatter\nreturn 1"), "importing 'Formatter'"
    ),
    "string_template": Attack(
        solution("import string\nreturn string.Template('$x')"), "attribute 'Template'"
    ),
    "operator_attrgetter": Attack(
        solution("from operator import attrgetter\nreturn attrgetter('real')(1)"),
        "import of module 'operator'",
    ),
    "methodcaller_name": Attack(solution("return methodcaller('x')"), "name 'methodcaller'"),
    "fstring_dunder": Attack(solution("return f'{().__class__}'"), "attribute '__class__'"),
    "fstring_spec_getattr": Attack(solution("x = 1\nreturn f'{x!r:{getattr}}'"), "name 'getattr'"),
    "fstring_gi_frame": Attack(
        solution("g = (x for x in [1])\nreturn f'{g.gi_frame}'"), "attribute 'gi_frame'"
    ),
    "format_builtin": Attack(solution("return format(1, 'x')"), "name 'format'"),
    "join_self": Attack(solution("return ''.join.__self__"), "attribute '__self__'"),
    # look-alike Unicode identifiers (NFKC-normalised by the parser)
    "fullwidth_eval": Attack(solution("return \uff45val('1')"), "name 'eval'"),
    "fullwidth_dunder_import": Attack(
        solution("return __\uff49mport__('os')"), "name '__import__'"
    ),
    "fullwidth_class_attribute": Attack(
        solution("return ().__\uff43lass__"), "attribute '__class__'"
    ),
    "fullwidth_getattr": Attack(
        solution("return \uff47\uff45\uff54\uff41\uff54\uff54\uff52(1, 'real')"), "name 'getattr'"
    ),
    "superscript_e_eval": Attack(solution("return \u1d49val('1')"), "name 'eval'"),
    "fullwidth_import_os": Attack(solution("import \uff4fs\nreturn 1"), "import of module 'os'"),
    "math_bold_exec": Attack(
        solution("return \U0001d41e\U0001d431\U0001d41e\U0001d41c('x = 1')"), "name 'exec'"
    ),
    # decorators, classes, hooks that run later
    "decorator": Attack(
        solution("return 1", "@print\ndef helper():\n    pass\n"),
        "decorators are not allowed in the sandbox",
    ),
    "class_with_del": Attack(
        solution("return A()", "class A:\n    def __del__(self):\n        print('late')\n"),
        "class definitions (a class can define __repr__, __del__ and other hooks)",
    ),
    "class_with_repr": Attack(
        solution("return A()", "class A:\n    def __repr__(self):\n        return 'x'\n"),
        "class definitions (a class can define __repr__, __del__ and other hooks)",
    ),
    "plain_class": Attack(
        solution("return A", "class A:\n    pass\n"),
        "class definitions (a class can define __repr__, __del__ and other hooks)",
    ),
    "exception_subclass": Attack(
        solution("return 1", "class E(Exception):\n    pass\n"),
        "class definitions (a class can define __repr__, __del__ and other hooks)",
    ),
    # exec, eval, compile, open, input, breakpoint
    "exec_call": Attack(solution("exec('x = 1')\nreturn 1"), "name 'exec'"),
    "eval_call": Attack(solution("return eval('1 + 1')"), "name 'eval'"),
    "compile_call": Attack(solution("return compile('1', 'x', 'eval')"), "name 'compile'"),
    "open_read": Attack(solution("f = open('/etc/passwd')\nreturn 1"), "name 'open'"),
    "open_write": Attack(solution("f = open('pwned', 'w')\nreturn 1"), "name 'open'"),
    "file_read_method": Attack(solution("f = [1]\nreturn f.read()"), "attribute 'read'"),
    "file_write_method": Attack(solution("f = [1]\nreturn f.write('x')"), "attribute 'write'"),
    "input_call": Attack(solution("return input()"), "name 'input'"),
    "breakpoint_call": Attack(solution("breakpoint()\nreturn 1"), "name 'breakpoint'"),
    "help_call": Attack(solution("return help(1)"), "name 'help'"),
    "memoryview_call": Attack(solution("return memoryview(b'x')"), "name 'memoryview'"),
    "bytearray_call": Attack(solution("return bytearray(10)"), "name 'bytearray'"),
    "classmethod_call": Attack(solution("return classmethod(print)"), "name 'classmethod'"),
    "exit_call": Attack(solution("exit(0)"), "name 'exit'"),
    # environment and network
    "os_environ": Attack(solution("import os\nreturn dict(os.environ)"), "import of module 'os'"),
    "socket_connect": Attack(
        solution("import socket\ns = socket.create_connection(('example.com', 80))\nreturn 1"),
        "import of module 'socket'",
    ),
    # refused syntax
    "with_statement": Attack(
        solution("with x:\n    pass\nreturn 1"),
        "with statements (context managers run hidden code)",
    ),
    "async_def": Attack(
        solution("return 1", "async def helper():\n    return 1\n"), "async functions"
    ),
    "await_in_async": Attack(
        solution("return 1", "async def helper():\n    await helper()\n"), "async functions"
    ),
    "yield_generator": Attack(
        solution("return 1", "def gen():\n    yield 1\n"), "yield (generators expose frames)"
    ),
    "yield_from": Attack(solution("return 1", "def gen():\n    yield from [1]\n"), "yield from"),
    "global_statement": Attack(
        solution("global counter\ncounter = 1\nreturn counter"), "global statements"
    ),
    "nonlocal_statement": Attack(
        solution("x = 1\ndef inner():\n    nonlocal x\n    x = 2\ninner()\nreturn x"),
        "nonlocal statements",
    ),
    "match_class_pattern": Attack(
        solution("match 1:\n    case int(real=r):\n        return r"),
        "match statements (class patterns read attributes)",
    ),
    "try_star": Attack(
        solution("try:\n    pass\nexcept* ValueError:\n    pass\nreturn 1"), "try/except* blocks"
    ),
    "matmul": Attack(solution("return 1 @ 2"), "the @ operator"),
    "attribute_assignment": Attack(
        solution("import math\nmath.pi = 3\nreturn 1"), "assigning or deleting attribute 'pi'"
    ),
    "attribute_delete": Attack(
        solution("import math\ndel math.pi\nreturn 1"), "assigning or deleting attribute 'pi'"
    ),
    "bytes_constant": Attack(solution("return b'abc'"), "bytes constants are not allowed"),
    "ellipsis_constant": Attack(solution("return ..."), "ellipsis constants are not allowed"),
    "pow_augassign_item": Attack(solution("x = [2]\nx[0] **= 2\nreturn x"), "`**=` on an item"),
    "unknown_name": Attack(solution("return undefined_thing"), "name 'undefined_thing'"),
    # the validator itself under attack
    "null_byte": Attack(solution("return 1") + "\x00", "null byte"),
    "null_byte_in_string": Attack(solution("return 'a\x00b'"), "null byte"),
    "too_many_nested_parens": Attack(
        solution("return " + "(1, " * 150 + "1" + ")" * 150), "nested more than 120 levels"
    ),
    "nested_lists": Attack(
        solution("return " + "[" * 150 + "]" * 150), "nested more than 120 levels"
    ),
    "unary_chain": Attack(solution("return " + "-" * 150 + "1"), "nested more than 120 levels"),
    "huge_source_10mb": Attack(
        "x = 1\n" * 1_800_000, "10,800,000 characters long; the limit is 50,000"
    ),
    "minus_chain_40k": Attack(
        "x = " + "-" * 40_000 + "1", "too deeply nested or too complex to parse"
    ),
    "entry_missing": Attack(
        "def other():\n    return 1\n", "the program defines no top-level function 'solution'"
    ),
    "entry_not_top_level": Attack(
        "def outer():\n    def solution():\n        return 1\n",
        "the program defines no top-level function 'solution'",
    ),
}


@pytest.fixture
def no_child(monkeypatch):
    """Fail if a sandbox process would start: refusals must happen in the parent."""

    def forbid(*args, **kwargs):
        msg = "a refused program must not start a process"
        raise AssertionError(msg)

    monkeypatch.setattr(_runner.subprocess, "Popen", forbid)


def _assert_refused_for(err: ProgramRefusedError, refuses: str) -> None:
    assert type(err) is not ProgramSyntaxError, f"refused only because it does not parse: {err}"
    assert refuses in err.reason, f"refused for another construct: {err.reason!r}"
    assert refuses in str(err)  # the message shown to the user names it too


@pytest.mark.parametrize(("code", "refuses"), list(REFUSED.values()), ids=list(REFUSED))
def test_attack_is_refused_before_running(code, refuses, no_child):
    with pytest.raises(ProgramRefusedError) as info:
        run_program(code)
    _assert_refused_for(info.value, refuses)


PARSER_REFUSED = {
    # Python's own parser is the layer that stops these; its message names the limit.
    "int_literal_over_digit_limit": Attack(
        solution("return " + "9" * 5000), "Exceeds the limit (4300 digits)"
    ),
    "parens_past_the_parser_limit": Attack(
        solution("return " + "(" * 300 + "1" + ")" * 300), "too many nested parentheses"
    ),
    "plain_syntax_error": Attack("def solution(:\n    return 1\n", "invalid syntax"),
}


@pytest.mark.parametrize(
    ("code", "refuses"), list(PARSER_REFUSED.values()), ids=list(PARSER_REFUSED)
)
def test_what_does_not_parse_is_a_syntax_error_naming_why(code, refuses, no_child):
    with pytest.raises(ProgramSyntaxError) as info:
        run_program(code)
    assert refuses in info.value.reason


DEEP_SOURCES = {
    "parens": "(" * 49_000,
    "minus": "-" * 1_000_000 + "1",
    "attribute_chain": "a" + ".a" * 24_000,
    "call_chain": "f" + "()" * 24_000,
    "plus_chain_parses_but_too_deep": "x = " + "+".join(["1"] * 3000),
    "list_nesting": "[" * 49_000 + "]" * 49_000,
    "not_chain": "not " * 100_000 + "1",
    "lambda_chain": "lambda:" * 20_000 + "1",
    "many_statements": "x = 1\n" * 30_000,
    "deep_if_blocks": "".join(" " * i + "if 1:\n" for i in range(300)) + " " * 300 + "pass\n",
}


@pytest.mark.parametrize("code", list(DEEP_SOURCES.values()), ids=list(DEEP_SOURCES))
def test_validator_survives_huge_and_deep_sources(code, no_child):
    limits = SandboxLimits(max_source_chars=_runner.MAX_SOURCE_CHARS_LIMIT)
    with pytest.raises(ProgramRefusedError):
        run_program(code, limits=limits)


def test_refusal_names_what_and_where(no_child):
    code = "import math\ndef solution():\n    x = 1\n    return x.gi_frame\n"
    with pytest.raises(ProgramRefusedError) as info:
        run_program(code)
    err = info.value
    assert "gi_frame" in str(err)
    assert (err.line, err.col) == (4, 12)
    assert isinstance(err, ValueError) and isinstance(err, SandboxError)


def test_syntax_error_is_a_refusal_with_position(no_child):
    with pytest.raises(ProgramSyntaxError) as info:
        run_program("def solution():\n    return (1 +\n")
    assert info.value.line is not None
    assert "syntax error" in str(info.value)


def test_lookalike_identifiers_are_checked_after_normalisation(no_child):
    with pytest.raises(ProgramRefusedError, match="'eval'"):
        validate_program(solution("return \uff45val('1')"))
    with pytest.raises(ProgramRefusedError, match="underscore"):
        validate_program(solution("return __\uff49mport__('os')"))


def test_huge_source_is_refused_by_size_before_parsing(no_child):
    with pytest.raises(ProgramRefusedError, match="characters long"):
        run_program("x" * 10_000_000)


# ------------------------------------------------------------- the policy's tables themselves

DANGEROUS_ATTRIBUTES = {
    "format", "format_map", "vformat", "mro", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame",
    "cr_code", "cr_await", "ag_frame", "ag_code", "f_back", "f_globals", "f_locals",
    "f_builtins", "f_code", "tb_frame", "tb_next", "co_code", "co_consts", "obj", "value",
    "with_traceback", "sys", "os", "system", "environ", "modules", "popen", "fork", "loader",
    "load_module", "exec_module", "get_data", "attrgetter", "methodcaller", "Formatter",
    "Template", "getcontext", "setcontext", "localcontext", "func", "default_factory",
    "mapping", "cache_info", "encode", "decode", "read", "write", "open",
}  # fmt: skip


def test_attribute_allowlist_has_no_dangerous_names():
    assert DANGEROUS_ATTRIBUTES.isdisjoint(_allowlist.ATTRIBUTE_NAMES)
    assert not any(name.startswith("_") for name in _allowlist.ATTRIBUTE_NAMES)


def test_builtins_allowlist_has_no_dangerous_names():
    assert _allowlist.SAFE_BUILTINS.isdisjoint(_allowlist.DENIED_NAMES)
    for name in ("eval", "exec", "getattr", "type", "object", "open", "format", "vars"):
        assert name not in _allowlist.SAFE_BUILTINS


def test_policy_enforces_the_allowlist_tables():
    assert _policy.ATTRIBUTE_NAMES is _allowlist.ATTRIBUTE_NAMES
    assert _policy.MODULE_ATTRS is _allowlist.MODULE_ATTRS
    assert frozenset(_allowlist.MODULE_ATTRS) == ALLOWED_MODULES


@pytest.fixture(scope="module")
def runtime():
    return _policy.Runtime(max_output_chars=100)


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("random", "_os"),
        ("fractions", "sys"),
        ("datetime", "sys"),
        ("decimal", "sys"),
        ("statistics", "random"),
        ("math", "__loader__"),
        ("functools", "partial"),
        ("string", "Formatter"),
    ],
)
def test_module_proxies_expose_only_allowlisted_attributes(runtime, target, name):
    proxy = runtime.proxies[target]
    assert not isinstance(proxy, type(sys))
    with pytest.raises(AttributeError):
        runtime.guarded_attr(proxy, name)


def test_runtime_guard_checks_the_exact_type(runtime):
    import math

    gen = (x for x in [1])
    error = ZeroDivisionError("division by zero")
    cases = [
        (gen, "gi_frame"),
        (error, "with_traceback"),
        (error, "__traceback__"),
        (math.sqrt, "__self__"),
        ("s", "format"),
        ("s", "mro"),  # allowed nowhere
        (1, "upper"),  # allowed on str, not on int
        (str, "format"),
        (int, "__subclasses__"),
        (runtime.proxies["math"], "_lc_attrs"),
    ]
    for obj, name in cases:
        with pytest.raises(AttributeError):
            runtime.guarded_attr(obj, name)
    assert runtime.guarded_attr("ab", "upper")() == "AB"
    assert runtime.guarded_attr(error, "args") == ("division by zero",)
    assert runtime.guarded_attr(runtime.proxies["math"], "pi") == math.pi


def test_runtime_import_hands_out_proxies_never_modules(runtime):
    assert isinstance(runtime.guarded_import("math"), _policy.ModuleProxy)
    with pytest.raises(ImportError):
        runtime.guarded_import("os_not_loaded_anywhere_xyz")
    with pytest.raises(ImportError):
        runtime.guarded_import("math", level=1)
    # C code importing an already-loaded module (date.strftime -> time) gets None, not a module.
    assert runtime.guarded_import("os") is None


def test_guarded_pow_refuses_huge_powers_before_computing(runtime):
    with pytest.raises(MemoryError, match="digits"):
        runtime.guarded_pow(10, 10**10)
    assert runtime.guarded_pow(2, 10) == 1024
    assert runtime.guarded_pow(2, 10**10, 7) == pow(2, 10**10, 7)


# ------------------------------------------------------------ attacks that reach the child

RUNTIME_ATTACKS = {
    "pow_tower": (solution("return 10 ** 10 ** 10"), ProgramMemoryError),
    "pow_builtin": (solution("return pow(10, 10 ** 10)"), ProgramMemoryError),
    "pow_augassign": (solution("x = 10\nx **= 10 ** 10\nreturn x"), ProgramMemoryError),
    "fraction_pow": (
        solution("from fractions import Fraction\nreturn Fraction(3, 2) ** 10 ** 9"),
        ProgramMemoryError,
    ),
    "string_repeat": (solution("return 'x' * 10 ** 10"), ProgramMemoryError),
    "list_repeat": (solution("return [0] * 10 ** 10"), ProgramMemoryError),
    "list_doubling": (solution("x = [1]\nwhile True:\n    x = x + x"), ProgramMemoryError),
    "infinite_count": (
        solution("import itertools\nreturn list(itertools.count())"),
        ProgramMemoryError,
    ),
    "deep_recursion": (
        solution("return f(0)", "def f(n):\n    return f(n + 1)\n"),
        ProgramRuntimeError,
    ),
    "huge_print": (solution("while True:\n    print('x' * 1000)"), ProgramOutputError),
    "print_limit_swallowed": (
        solution(
            "for i in range(10 ** 4):\n"
            "    try:\n        print('x' * 100)\n    except:\n        pass\n"
            "return 1"
        ),
        ProgramOutputError,
    ),
    "huge_result": (solution("return 'x' * 10 ** 6"), ProgramOutputError),
    "deep_result": (
        solution("x = []\nfor i in range(1000):\n    x = [x]\nreturn x"),
        ProgramOutputError,
    ),
    "self_referencing_result": (solution("x = []\nx.append(x)\nreturn x"), ProgramOutputError),
    "huge_int_result": (solution("return 7 ** 5000"), ProgramOutputError),
    "return_function": (solution("return solution"), ProgramOutputError),
    "return_builtin_print": (solution("return print"), ProgramOutputError),
    "return_module_proxy": (solution("import math\nreturn math"), ProgramOutputError),
    "return_generator": (solution("return (x for x in range(3))"), ProgramOutputError),
    "return_timedelta": (
        solution("import datetime\nreturn datetime.timedelta(days=1)"),
        ProgramOutputError,
    ),
    "return_int_keys": (solution("return {1: 'a'}"), ProgramOutputError),
    "runtime_attribute_on_wrong_type": (solution("return (1).upper()"), ProgramRuntimeError),
    "entry_rebound_to_builtin": (
        "def solution():\n    return 1\nsolution = print\n",
        ProgramRuntimeError,
    ),
    "c_level_loop_never_yields": (solution("return sum(range(10 ** 15))"), ProgramTimeoutError),
    "infinite_loop": (solution("while True:\n    pass"), ProgramTimeoutError),
}


@pytest.mark.parametrize(
    ("code", "error"), list(RUNTIME_ATTACKS.values()), ids=list(RUNTIME_ATTACKS)
)
def test_resource_bombs_and_bad_results_are_stopped(code, error):
    with pytest.raises(error):
        run_program(code, timeout_s=0.5, memory_mb=64, max_output_bytes=10_000)


CHILD_ONLY = {
    "import_os": Attack(
        "import os\ndef solution():\n    return os.getcwd()", "import of module 'os'"
    ),
    "subclasses_walk": Attack(
        solution("return ().__class__.__base__.__subclasses__()"), "attribute '__subclasses__'"
    ),
    "dunder_import": Attack(solution("return __import__('os')"), "name '__import__'"),
    "open_read": Attack(solution("f = open('/etc/hostname')\nreturn 1"), "name 'open'"),
    "gi_frame": Attack(solution("g = (x for x in [1])\nreturn g.gi_frame"), "attribute 'gi_frame'"),
    "format_dunder": Attack(solution("return '{0.__class__}'.format(1)"), "attribute 'format'"),
    "lookalike_eval": Attack(solution("return \uff45val('1')"), "name 'eval'"),
    "class_with_del": Attack(
        solution("return 1", "class A:\n    def __del__(self):\n        print('late')\n"),
        "class definitions",
    ),
    "null_byte": Attack(solution("return 1") + "\x00", "null byte"),
}


@pytest.fixture
def parent_check_bypassed(monkeypatch):
    monkeypatch.setattr(_runner, "validate_program", lambda *args, **kwargs: None)


@pytest.mark.parametrize(("code", "refuses"), list(CHILD_ONLY.values()), ids=list(CHILD_ONLY))
def test_child_revalidates_when_the_parent_check_is_bypassed(code, refuses, parent_check_bypassed):
    with pytest.raises(ProgramRefusedError) as info:
        run_program(code)
    _assert_refused_for(info.value, refuses)


@pytest.fixture
def kept_workdir(tmp_path, monkeypatch):
    """The child's working directory, kept after the run so a test can look inside."""
    workdir = tmp_path / "workdir"
    workdir.mkdir()

    @contextlib.contextmanager
    def fixed(*args, **kwargs):
        yield str(workdir)

    monkeypatch.setattr(_runner.tempfile, "TemporaryDirectory", fixed)
    return workdir


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_child_refuses_a_file_write_and_no_file_appears(
    where, tmp_path, kept_workdir, parent_check_bypassed
):
    target = "pwned" if where == "relative" else str(tmp_path / "pwned")
    code = solution(f"f = open({target!r}, 'w')\nf.write('x')\nreturn 1")
    with pytest.raises(ProgramRefusedError) as info:
        run_program(code)
    _assert_refused_for(info.value, "name 'open'")
    assert list(kept_workdir.iterdir()) == []
    assert not (tmp_path / "pwned").exists()


# ------------------------------------------- the OS layer alone (the language layer switched off)

_LANGUAGE_LAYER_OFF = """

# Test copy: the language layer is switched off, to check what the OS layer stops on its own.
def validate_tree(tree, *, entry=None):
    return None


def rewrite(tree):
    return ast.fix_missing_locations(tree)
"""


@pytest.fixture
def unguarded_child(tmp_path, monkeypatch, parent_check_bypassed):
    """Run programs in a copy of the child whose validator and attribute guards do nothing."""
    copy = tmp_path / "unguarded_sandbox"
    copy.mkdir()
    for name in ("_child.py", "_policy.py", "_allowlist.py", "_results.py"):
        shutil.copy(_runner.CHILD_PATH.parent / name, copy / name)
    with (copy / "_policy.py").open("a") as policy:
        policy.write(_LANGUAGE_LAYER_OFF)
    monkeypatch.setattr(_runner, "CHILD_PATH", copy / "_child.py")
    return copy


def test_unguarded_child_really_lets_programs_escape_the_language(unguarded_child):
    """Without this, the OS-layer tests below could pass because the language layer stopped them."""
    escape = solution("return [len.__self__.__name__, len.__self__.__import__('os').getpid() > 0]")
    assert run_program(escape) == ["builtins", True]


@pytest.mark.parametrize(
    "write",
    [
        "f = len.__self__.open(TARGET, 'w')\nf.write('x')",
        "os = len.__self__.__import__('os')\nos.open(TARGET, os.O_CREAT | os.O_WRONLY)",
    ],
    ids=["open", "os_open"],
)
def test_os_layer_alone_stops_file_writes(write, tmp_path, kept_workdir, unguarded_child):
    for target in ("pwned", str(tmp_path / "pwned")):
        code = solution(write.replace("TARGET", repr(target)) + "\nreturn 1")
        with pytest.raises(ProgramRuntimeError) as info:
            run_program(code)
        assert info.value.exc_type == "OSError"
        assert "Too many open files" in info.value.exc_message  # RLIMIT_NOFILE stopped it
    assert list(kept_workdir.iterdir()) == []
    assert not (tmp_path / "pwned").exists()


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if marker.encode() in cmdline.read():
                    found.append(int(entry))
        except OSError:  # the process ended while we looked
            continue
    return found


def test_no_process_is_left_after_a_timeout(unguarded_child):
    """A program that starts a long sleep and then spins: the timeout kills its whole group."""
    marker = f"300.{os.getpid()}{time.monotonic_ns() % 10**9}"  # a unique `sleep` duration
    code = solution(
        f"""
        os = len.__self__.__import__('os')
        if os.fork() == 0:
            os.closerange(0, 4)  # free descriptors for the dynamic loader (RLIMIT_NOFILE)
            os.execv({shutil.which("sleep")!r}, ['sleep', {marker!r}])
        while True:
            pass
        """
    )
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            run_program(code, timeout_s=3)
        except BaseException as err:
            outcome["error"] = err

    runner = threading.Thread(target=run)
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while not _processes_with(marker) and runner.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        started = bool(_processes_with(marker))
        runner.join(30)
        assert not runner.is_alive()
        if os.geteuid() != 0:  # RLIMIT_NPROC binds: the fork itself is refused
            assert isinstance(outcome.get("error"), ProgramRuntimeError), outcome
            return
        assert started, f"the program's sleep never started: {outcome}"
        assert isinstance(outcome.get("error"), ProgramTimeoutError), outcome
        time.sleep(0.2)  # SIGKILL is delivered at once, but give /proc a moment
        assert _processes_with(marker) == [], "a process the program started outlived it"
    finally:
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)


def test_child_run_directly_refuses_and_speaks_only_json():
    request = {
        "code": "import os\ndef solution():\n    return 1\n",
        "entry": "solution",
        "memory_mb": 128,
        "cpu_s": 2,
        "max_output_bytes": 1000,
        "max_source_chars": 10_000,
    }
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", str(_runner.CHILD_PATH)],
        input=json.dumps(request).encode(),
        capture_output=True,
        env={},
        timeout=30,
        check=False,
    )
    frame = json.loads(proc.stdout)
    assert frame["status"] == "refused"
    assert "'os'" in frame["reason"]


def test_child_loads_only_the_stdlib_and_its_policy_files():
    """The child imports no localchain package ``__init__``, no errors module, no third party."""
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('child', {str(_runner.CHILD_PATH)!r})\n"
        "child = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(child)\n"
        "policy = child._load('_policy')\n"
        "child._load('_results')\n"
        "policy.Runtime(max_output_chars=10)\n"
        "names = [n for n in sys.modules if n.split('.')[0] in "
        "('localchain', 'langchain_core', 'pydantic')]\n"
        "print(json.dumps(sorted(names)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code],
        capture_output=True,
        text=True,
        env={},
        timeout=30,
        check=True,
    )
    assert json.loads(proc.stdout) == [
        "localchain",
        "localchain.sandbox",
        "localchain.sandbox._allowlist",
        "localchain.sandbox._policy",
        "localchain.sandbox._results",
    ]


def test_child_starts_fresh_isolated_interpreter(monkeypatch):
    seen = {}
    real_popen = subprocess.Popen

    def spy(argv, **kwargs):
        seen.update(kwargs, argv=argv)
        import os

        seen["cwd_entries"] = os.listdir(kwargs["cwd"])
        return real_popen(argv, **kwargs)

    monkeypatch.setenv("LOCALCHAIN_SECRET_TOKEN", "hunter2")
    monkeypatch.setattr(_runner.subprocess, "Popen", spy)
    assert run_program(solution("return 1")) == 1
    assert seen["argv"][:4] == [sys.executable, "-I", "-S", "-B"]
    assert seen["env"] == {}
    assert seen["start_new_session"] is True
    assert seen["close_fds"] is True
    assert seen["cwd_entries"] == []


# ---------------------------------------------------------------------- legitimate programs

LEGIT = {
    "arithmetic_word_problem": (
        solution(
            """
            apples_start = 23
            eaten = 20
            bought = 6
            return apples_start - eaten + bought
            """
        ),
        9,
    ),
    "math_functions": (
        solution(
            "import math\n"
            "return [math.sqrt(16), math.floor(2.7), math.gcd(12, 18), math.comb(5, 2)]"
        ),
        [4.0, 2, 6, 10],
    ),
    "from_math_import": (
        solution("return round(hypot(3, 4) * pi, 4)", "from math import hypot, pi\n"),
        15.708,
    ),
    "fraction_whole": (
        solution("from fractions import Fraction\nreturn Fraction(1, 3) + Fraction(2, 3)"),
        1,
    ),
    "fraction_to_float": (
        solution("from fractions import Fraction\nreturn Fraction(1, 4) + Fraction(1, 4)"),
        0.5,
    ),
    "decimal_money": (
        solution(
            """
            from decimal import Decimal, ROUND_HALF_UP
            total = Decimal('19.99') * 3 + Decimal('0.015')
            return str(total.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP))
            """
        ),
        "59.99",
    ),
    "decimal_returned": (solution("import decimal\nreturn decimal.Decimal('0.1') * 3"), 0.3),
    "statistics_mean_median": (
        solution(
            "import statistics\nxs = [3, 1, 4, 1, 5]\n"
            "return [statistics.mean(xs), statistics.median(xs)]"
        ),
        [2.8, 3],
    ),
    "itertools_permutations": (
        solution("import itertools\nreturn len(list(itertools.permutations('abcd', 2)))"),
        12,
    ),
    "itertools_chain_from_iterable": (
        solution("from itertools import chain\nreturn list(chain.from_iterable([[1], [2, 3]]))"),
        [1, 2, 3],
    ),
    "date_arithmetic_strftime": (
        solution(
            "import datetime\n"
            "d = datetime.date(2023, 1, 1) + datetime.timedelta(days=30)\n"
            "return d.strftime('%m/%d/%Y')"
        ),
        "01/31/2023",
    ),
    "date_weekday_name": (
        solution("from datetime import date\nreturn date(2024, 2, 29).strftime('%A')"),
        "Thursday",
    ),
    "strptime_and_days_between": (
        solution(
            """
            from datetime import datetime
            a = datetime.strptime('2023-03-01', '%Y-%m-%d')
            b = datetime.strptime('2023-02-01', '%Y-%m-%d')
            return (a - b).days
            """
        ),
        28,
    ),
    "date_returned_as_iso": (
        solution("import datetime\nreturn datetime.date(2020, 2, 29)"),
        "2020-02-29",
    ),
    "comprehension_and_helper": (
        solution(
            "return sum(square(n) for n in range(1, 4)) + len([x for x in 'abc'])",
            "def square(n):\n    return n * n\n",
        ),
        17,
    ),
    "dict_counting_sorted_lambda": (
        solution(
            """
            counts = {}
            for word in 'b a b c b a'.split():
                counts[word] = counts.get(word, 0) + 1
            return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            """
        ),
        [["b", 3], ["a", 2], ["c", 1]],
    ),
    "counter_most_common": (
        solution("from collections import Counter\nreturn Counter('mississippi').most_common(1)"),
        [["i", 4]],
    ),
    "counter_returned_as_dict": (
        solution("from collections import Counter\nreturn Counter('aab')"),
        {"a": 2, "b": 1},
    ),
    "while_break_continue": (
        solution(
            """
            n, total = 0, 0
            while True:
                n += 1
                if n % 2:
                    continue
                if n > 10:
                    break
                total += n
            return total
            """
        ),
        30,
    ),
    "try_except_fallback": (
        solution("try:\n    return 1 / 0\nexcept ZeroDivisionError:\n    return 'undefined'"),
        "undefined",
    ),
    "fstring_format_spec": (
        solution("x = 2 / 3\nreturn f'{x:.2f} and {x!r:>5.4}'"),
        "0.67 and  0.66",
    ),
    "percent_formatting": (solution("return '%d apples, %.1f kg' % (3, 1.25)"), "3 apples, 1.2 kg"),
    "string_methods": (
        solution("return '-'.join(w.upper() for w in 'red green'.split()).center(13, '*')"),
        "**RED-GREEN**",
    ),
    "memoised_recursion": (
        solution(
            "return fib(80)",
            "memo = {}\ndef fib(n):\n    if n < 2:\n        return n\n"
            "    if n not in memo:\n        memo[n] = fib(n - 1) + fib(n - 2)\n"
            "    return memo[n]\n",
        ),
        23416728348467685,
    ),
    "functools_reduce": (
        solution("from functools import reduce\nreturn reduce(lambda a, b: a * b, range(1, 6))"),
        120,
    ),
    "tuple_and_set_results": (solution("return (1, 2), {3, 1, 2}"), [[1, 2], [1, 2, 3]]),
    "colored_objects": (
        solution(
            """
            objects = [
                {'name': 'pen', 'color': 'red'},
                {'name': 'cup', 'color': 'blue'},
                {'name': 'hat', 'color': 'red'},
            ]
            return [o['name'] for o in objects if o['color'] == 'red']
            """
        ),
        ["pen", "hat"],
    ),
    "throwaway_underscore_and_walrus": (
        solution(
            "total = 0\nfor _ in range(3):\n    total += 2\n"
            "if (n := total) > 5:\n    return n\nreturn 0"
        ),
        6,
    ),
    "closure_and_annotations": (
        solution(
            "rate: float = 1.5\n"
            "def cost(hours: int) -> float:\n    return hours * rate\n"
            "return cost(4)"
        ),
        6.0,
    ),
    "moderate_powers": (
        solution("return [2 ** 100, 2 ** -2, 2.0 ** 0.5, pow(3, 4, 5)]"),
        [2**100, 0.25, 2.0**0.5, 1],
    ),
    "isinstance_and_exceptions": (
        solution(
            "try:\n    raise ValueError('bad')\n"
            "except ValueError as e:\n    return [isinstance(e, Exception), e.args[0]]"
        ),
        [True, "bad"],
    ),
    "random_seeded": (
        solution("import random\nrandom.seed(1)\nreturn 1 <= random.randint(1, 6) <= 6"),
        True,
    ),
    "string_constants": (solution("import string\nreturn string.ascii_lowercase[:3]"), "abc"),
    "none_and_nan": (solution("return [None, float('inf') > 0]"), [None, True]),
    "dashes_in_text_are_fine": (solution("return '----' + '____'"), "----____"),
}


@pytest.mark.parametrize(("code", "expected"), list(LEGIT.values()), ids=list(LEGIT))
def test_legitimate_program_runs(code, expected):
    assert run_program(code) == expected


def test_arguments_and_other_entry():
    code = "def area(width, height=2):\n    return width * height\n"
    assert run_program(code, entry="area", args=[3], kwargs={"height": 5}) == 15


def test_output_is_captured_separately_from_the_value():
    code = solution("print('step', 1)\nprint('done', end='!')\nreturn 42")
    result = run_program_with_output(code)
    assert isinstance(result, ProgramResult)
    assert (result.value, result.output) == (42, "step 1\ndone!")


def test_runtime_error_carries_type_message_line_and_no_host_traceback():
    code = "def solution():\n    x = 1\n    print('before')\n    return x / 0\n"
    with pytest.raises(ProgramRuntimeError) as info:
        run_program(code)
    err = info.value
    assert (err.exc_type, err.exc_message, err.line) == ("ZeroDivisionError", "division by zero", 4)
    assert err.output == "before\n"
    assert "_child.py" not in str(err) and "Traceback" not in str(err)


def test_timeout_error_reports_the_limit():
    with pytest.raises(ProgramTimeoutError) as info:
        run_program(solution("while True:\n    pass"), timeout_s=0.3)
    assert info.value.limit_s == 0.3
    assert isinstance(info.value, TimeoutError)


def test_memory_limit_is_tunable():
    code = solution("x = 'x' * (200 * 1024 * 1024)\nreturn len(x)")
    with pytest.raises(ProgramMemoryError) as info:
        run_program(code, memory_mb=128)
    assert info.value.limit_mb == 128


def test_limits_object_and_overrides():
    limits = SandboxLimits(timeout_s=2, max_output_bytes=50)
    with pytest.raises(ProgramOutputError):
        run_program(solution("return 'x' * 100"), limits=limits)
    assert (
        run_program(solution("return 'x' * 100"), limits=limits, max_output_bytes=500) == "x" * 100
    )
    with pytest.raises(ConfigError, match="memory_mb must be between 64 and 65536"):
        SandboxLimits(memory_mb=1)
    with pytest.raises(ConfigError, match="timeout_s"):
        SandboxLimits(timeout_s=0)
    with pytest.raises(ValueError, match="max_output_bytes must be between 1 and"):
        SandboxLimits(max_output_bytes=0)  # ConfigError is a ValueError: old callers still work


def test_arguments_must_be_plain_data(no_child):
    with pytest.raises(SandboxError, match="plain JSON"):
        run_program(solution("return 1"), args=[object()])


async def test_async_runs_do_not_block_the_event_loop():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    code = solution("total = 0\nfor i in range(300000):\n    total += i\nreturn total")
    values = await asyncio.gather(arun_program(code), arun_program(code))
    task.cancel()
    assert values == [sum(range(300000))] * 2
    assert ticks > 0
    result = await arun_program_with_output(solution("print('hi')\nreturn 1"))
    assert (result.value, result.output) == (1, "hi\n")
    with pytest.raises(ProgramRefusedError):
        await arun_program(solution("return ().__class__"))


# ------------------------------------------------------- limits the child process can honour


def test_source_limit_above_what_the_child_reads_is_refused_up_front():
    from localchain.sandbox import _child

    assert _runner.CHILD_REQUEST_BYTES == _child.MAX_REQUEST_BYTES
    with pytest.raises(ConfigError, match="2000000") as info:
        SandboxLimits(max_source_chars=9_000_000)
    assert "max_source_chars" in str(info.value)
    assert SandboxLimits(max_source_chars=_runner.MAX_SOURCE_CHARS_LIMIT)


def test_request_too_big_for_the_child_is_refused_before_it_starts(no_child):
    # 1.5M non-ASCII characters pass the character cap but escape to 9 MB of JSON.
    code = "def solution():\n    return '" + "\u00e9" * 1_500_000 + "'\n"
    limits = SandboxLimits(max_source_chars=_runner.MAX_SOURCE_CHARS_LIMIT)
    with pytest.raises(ProgramRefusedError, match="at most 8,000,000"):
        run_program(code, limits=limits)


@pytest.mark.parametrize(
    "values",
    [{"timeout_s": None}, {"memory_mb": 100.5}, {"max_source_chars": None}, {"timeout_s": "5"}],
)
def test_limits_of_the_wrong_type_are_config_errors(values):
    with pytest.raises(ConfigError, match=next(iter(values))):
        SandboxLimits(**values)
