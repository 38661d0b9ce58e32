"""Warnings at the command line are printed once per kind, with counts, without source lines."""

from __future__ import annotations

import warnings

from dogtag.cli.warn import collected_warnings, grouped


def test_grouped_by_kind_with_counts_and_examples():
    msgs = [("warning", f"marker 'M{k}': allele '{k}.1' is not in the frequency database; "
                        f"given frequency 0.006925 (5/(2N) = 5/722), other frequencies rescaled")
            for k in range(48)]
    msgs += [("warning", "marker 'M0': allele '0.1' is not in the frequency database; given frequency "
                         "0.006925 (5/(2N) = 5/722), other frequencies rescaled")] * 2
    msgs.append(("DeprecationWarning", "old"))
    lines = grouped(msgs)
    assert lines[0].startswith("warning (50 times, 48 different): marker 'M0': allele '0.1'")
    assert lines[1].startswith("  also: marker 'M1'") and lines[2].startswith("  also: marker 'M2'")
    assert lines[3] == "  and 45 more of this kind"
    assert lines[4] == "DeprecationWarning: old"
    assert len(lines) == 5


def test_one_message_repeated_is_one_line():
    assert grouped([("warning", "x")] * 3) == ["warning: x (3 times)"]
    assert grouped([("warning", "x")]) == ["warning: x"]


def test_collected_warnings_print_once_at_the_end(capsys):
    with collected_warnings():
        for _ in range(5):
            warnings.warn("marker 'A': allele '9' is not in the frequency database", UserWarning, stacklevel=1)
        assert capsys.readouterr().err == ""  # nothing while the command runs
    err = capsys.readouterr().err
    assert err == "warning: marker 'A': allele '9' is not in the frequency database (5 times)\n"
    assert "warnings.warn" not in err  # no source line
