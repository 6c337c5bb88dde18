"""The parser: Microsoft's sample lines, the simulator's quirks, Azure Monitor JSON, malformed lines."""

import html
import json
from datetime import UTC, datetime, timedelta

import pytest

from ascmon.simulator.storage_activity import AccountLogSpec, classic_log_blobs, monitor_log_blobs
from storage_logs import parse
from tests import data

EXAMPLE_LINES = data.example_log_lines()
START = datetime(2026, 2, 2, 9, tzinfo=UTC)


def test_there_are_eleven_example_lines():
    assert len(EXAMPLE_LINES) == 11


@pytest.mark.parametrize("line", EXAMPLE_LINES, ids=lambda line: line.split(";")[2])
def test_every_example_line_parses_to_its_documented_fields(line):
    fields = parse.tokenize(line)
    assert len(fields) == {"1.0": 30, "2.0": 38}[fields[0]]
    rejects = parse.Rejects()
    (record,) = parse.records(line + "\n", rejects)
    assert rejects.count == 0
    assert (
        record[parse.OP] == fields[2]
        and record[parse.STATUS] == fields[3]
        and record[parse.HTTP] == fields[4]
    )
    assert (
        record[parse.AUTH] == fields[7]
        and record[parse.RID] == fields[13]
        and record[parse.OPC] == fields[14]
    )
    assert record[parse.IP] == fields[15].split(":")[0]
    assert record[parse.REQ] == fields[18] and record[parse.RESP] == fields[20]
    assert html.unescape(record[parse.UA]) == html.unescape(fields[27])
    assert record[parse.TIME].startswith(("2014-06-19T", "2019-02-25T", "2022-01-0"))


def by_op(op, version=None):
    return next(line for line in EXAMPLE_LINES if line.split(";")[2] == op and line.startswith(version or ""))


def test_quirks_of_the_samples_come_out_right():
    sas = parse.tokenize(by_op("PutBlob", "2.0"))
    assert html.unescape(sas[11]).endswith(
        "?se=2022-02-02T20:34:54Z&sig=XXXXX&sp=rwl&sr=c&sv=2020-04-08&timeout=901"
    )
    assert html.unescape(sas[24]) == '"0x8D9CEF88004E296"'
    assert parse.tokenize(by_op("GetBlob"))[24] == '"0x8D15A2913C934DE"'
    assert (
        parse.tokenize(by_op("GetBlob"))[27]
        == "WA-Storage/4.0.1 (.NET CLR 4.0.30319.34014; Win32NT 6.3.9600.0)"
    )
    oauth = parse.tokenize(by_op("ListBlobs"))
    assert (
        oauth[30] == "e5981635-dcf0-4279-ab7b-ca1cbdf4a5c7"
        and oauth[32] == "691458b9-1327-4635-9f55-ed83a7f1b41c"
    )
    assert json.loads(oauth[37])[0]["principalType"] == "User"
    assert parse.records(by_op("RenamePathFile") + "\n", parse.Rejects())[0][parse.IP] == "73.157.16.8"
    (record,) = parse.records(by_op("ListBlobs") + "\n", parse.Rejects())
    assert parse.principal_of(record) == ("oauth", "e5981635-dcf0-4279-ab7b-ca1cbdf4a5c7")
    sas_request = parse.records(by_op("PutBlob", "2.0") + "\n", parse.Rejects())[0]
    assert sas_request[parse.SIG] == "se=2022-02-02T20:34:54Z&sp=rwl&sr=c&sv=2020-04-08"
    assert parse.principal_of(sas_request)[0] == "sas_fields"
    assert parse.records(by_op("CopyBlobSource") + "\n", parse.Rejects())[0][parse.CONTAINER] == ""


def simulated(**flags):
    spec = AccountLogSpec("quirky", "sub", "rg", profile="small", diagnostic_logs=True, **flags)
    return spec, list(classic_log_blobs(spec, START, START + timedelta(hours=3), seed=4))


def test_the_fast_path_and_the_tokenizer_agree_on_every_simulated_line():
    _, blobs = simulated()
    lines = [line for blob in blobs for line in blob.data.decode().splitlines()]
    fast = parse.classic_records("".join(line + "\n" for line in lines), parse.Rejects())
    slow = [parse._slow(line, parse.Rejects()) for line in lines]
    assert fast == slow and len(fast) == len(lines)
    assert any("&amp;sig=" in line and ';"/quirky/' in line for line in lines)  # unquoted SAS URLs
    assert any("&lt;script&gt;" in line for line in lines) and any('""0x8D' in line for line in lines)


def test_version_one_lines_parse_too():
    _, blobs = simulated(logging_version="1.0")
    data = b"".join(blob.data for blob in blobs).decode()
    records = parse.records(data, parse.Rejects())
    assert len(records) == data.count("\n") and all(r[parse.VER] == "1.0" for r in records)


def test_classic_and_monitor_json_give_the_same_principals_and_bytes():
    spec, classic = simulated()
    monitor = list(monitor_log_blobs(spec, START, START + timedelta(hours=3), seed=4))

    def summary(blobs):
        out = {}
        for blob in blobs:
            for r in parse.records(blob.data.decode(), parse.Rejects()):
                out[(r[parse.RID], r[parse.OPC])] = (
                    parse.principal_of(r),
                    r[parse.IP],
                    r[parse.RESP],
                    r[parse.OP],
                )
        return out

    by_classic, by_monitor = summary(classic), summary(monitor)
    assert by_classic.keys() == by_monitor.keys()
    tokens = {}  # a SAS token: its visible fields in classic lines, its signature hash in Monitor events
    for request, (who, *rest) in by_classic.items():
        theirs, *their_rest = by_monitor[request]
        assert rest == their_rest
        if who[0] == "sas_fields":
            assert theirs[0] == "sas" and tokens.setdefault(who, theirs) == theirs
        else:
            assert who == theirs
    assert len(tokens) == len(set(tokens.values())) >= 1


def test_malformed_lines_are_counted_and_sampled_without_stopping_the_chunk():
    good = EXAMPLE_LINES[0]
    chunk = "\n".join([good, "garbage;line", good.replace("1.0;", "3.0;", 1), "", EXAMPLE_LINES[1]]) + "\n"
    rejects = parse.Rejects()
    records = parse.records(chunk, rejects)
    assert len(records) == 2 and rejects.count == 3
    assert rejects.samples[0]["line"] == "garbage;line" and "fields" in rejects.samples[0]["reason"]
    json_rejects = parse.Rejects()
    assert parse.records('{"time": "x"}\n{not json\n', json_rejects) == [] and json_rejects.count == 2
