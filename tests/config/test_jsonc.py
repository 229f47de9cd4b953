from __future__ import annotations

import pytest

from hive.config import parse_jsonc
from hive.config.jsonc import strip_jsonc
from hive.core.errors import ConfigError


def test_comments_and_trailing_commas() -> None:
    text = """
    // leading comment
    {
      /* block
         comment */
      "a": [1, 2, 3,],  // trailing comma in an array
      "b": {"c": true,},
    }
    """
    assert parse_jsonc(text, file="x.jsonc") == {"a": [1, 2, 3], "b": {"c": True}}


def test_comment_markers_and_commas_inside_strings_survive() -> None:
    text = r'{"url": "http://example.com/*x*/", "q": "say \"//\",]", "tail": "a,}"}'
    assert parse_jsonc(text, file="x.jsonc") == {
        "url": "http://example.com/*x*/",
        "q": 'say "//",]',
        "tail": "a,}",
    }


def test_escaped_backslash_before_closing_quote() -> None:
    text = '{"path": "C:\\\\", // comment\n "next": 1,}'
    assert parse_jsonc(text, file="x.jsonc") == {"path": "C:\\", "next": 1}


def test_blanking_keeps_length_and_lines() -> None:
    text = '{\n  "a": 1, // c\n  /* x\n y */ "b": 2,\n}\n'
    stripped = strip_jsonc(text, file="x")
    assert len(stripped) == len(text)
    assert stripped.count("\n") == text.count("\n")


def test_comma_between_comment_and_closer_is_blanked() -> None:
    assert parse_jsonc("[1, /* two */ 2, // end\n]", file="x") == [1, 2]


def test_invalid_json_names_file_line_and_column() -> None:
    text = '{\n  "templates": {\n    /* c */ "web": {"label": "x" "type": "manual"}\n  }\n}\n'
    line3 = text.splitlines()[2]
    with pytest.raises(ConfigError) as caught:
        parse_jsonc(text, file="hive.config.json")
    err = caught.value
    assert err.file == "hive.config.json"
    assert err.line == 3
    assert err.column == line3.index('"type"') + 1
    assert err.message.startswith(f"hive.config.json:3:{err.column}: invalid JSON:")
    assert err.hint


def test_unterminated_block_comment_is_reported_where_it_starts() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_jsonc('{\n  "a": 1 /* never closed\n}', file="f.json")
    assert (caught.value.line, caught.value.column) == (2, 10)


@pytest.mark.parametrize("text", ["{,}", "[,]", "[1,,]", '{"a":,}'])
def test_commas_not_after_a_value_stay_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_jsonc(text, file="x")
