"""Loss incidents of the Korean War scenario: real battles and real air losses.

Battles: name, dates and place follow the U.S. Army and Marine Corps official histories cited in
each row (``sources``). Coordinates are those of the named place (town, reservoir, hill mass),
rounded to 0.05 degree: they place an incident on a map, they do not mark a grave. ``weight`` is
the share of the scenario's ground losses given to the battle; it follows the broad picture of
the unaccounted-for (most from the winter of 1950-51 in North Korea and from prisoner-of-war
camps) and is not a count from a casualty file.

Air losses: the THOR mission records shipped in ``dogtag/data/korean_war/air_losses.csv`` (see
the PROVENANCE.md next to it).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

__all__ = ["BATTLES", "Incident", "air_losses", "battles"]

_APPLEMAN = "Appleman, South to the Naktong, North to the Yalu (U.S. Army CMH, 1961)"
_MOSSMAN = "Mossman, Ebb and Flow, November 1950-July 1951 (U.S. Army CMH, 1990)"
_HERMES = "Hermes, Truce Tent and Fighting Front (U.S. Army CMH, 1966)"
_MONTROSS = "Montross & Canzona, The Chosin Reservoir Campaign (USMC Historical Branch, 1957)"
_EAST = "Appleman, East of Chosin (Texas A&M University Press, 1987)"
_POW = "U.S. Army, Korean War POW deaths: DPAA Korean War project fact sheets (camp deaths, 1950-53)"


@dataclass(frozen=True)
class Incident:
    """A loss incident: key, name, first date of loss (ISO), place, position (degrees), unit."""

    key: str
    name: str
    date: str
    end_date: str
    place: str
    latitude: float | None
    longitude: float | None
    unit: str
    branch: str
    circumstances: str
    sources: str
    weight: float = 0.0
    crew: int = 0  # air losses: airmen missing


#: key, name, start, end, place, lat, lon, unit, branch ("Army", "Marine Corps", mixed "Army/Marine Corps"),
#: circumstances, sources, weight
BATTLES: tuple[Incident, ...] = (
    Incident("KW-OSAN", "Battle of Osan (Task Force Smith)", "1950-07-05", "1950-07-05",
             "north of Osan, Gyeonggi", 37.15, 127.05,
             "1st Battalion, 21st Infantry Regiment, 24th Infantry Division", "Army",
             "Killed or missing in the withdrawal from the Osan ridge.", _APPLEMAN, 0.01),
    Incident("KW-TAEJON", "Battle of Taejon", "1950-07-14", "1950-07-21", "Taejon (Daejeon)", 36.35, 127.40,
             "24th Infantry Division", "Army", "Missing in the defence and evacuation of Taejon.",
             _APPLEMAN, 0.05),
    Incident("KW-NAKTONG", "First Battle of the Naktong Bulge", "1950-08-05", "1950-08-19",
             "Naktong River bend near Yongsan", 35.50, 128.40, "24th Infantry Division", "Army",
             "Missing in the Pusan Perimeter fighting.", _APPLEMAN, 0.05),
    Incident("KW-UNSAN", "Battle of Unsan", "1950-11-01", "1950-11-02", "Unsan, North Pyongan", 39.95, 125.85,
             "8th Cavalry Regiment, 1st Cavalry Division", "Army",
             "Overrun by Chinese forces; many captured, many died in captivity.", _APPLEMAN, 0.10),
    Incident("KW-CHONGCHON", "Battle of the Ch'ongch'on River (Kunu-ri)", "1950-11-25", "1950-12-01",
             "Kunu-ri, South Pyongan", 39.65, 125.90, "2nd Infantry Division", "Army",
             "Killed or missing in the withdrawal through 'the Gauntlet' south of Kunu-ri.",
             _APPLEMAN, 0.15),
    Incident("KW-CHOSIN", "Battle of the Chosin Reservoir", "1950-11-27", "1950-12-13",
             "Yudam-ni and Hagaru-ri, Chosin (Changjin) Reservoir", 40.45, 127.15, "1st Marine Division",
             "Marine Corps", "Killed or missing in the breakout from the reservoir.", _MONTROSS, 0.12),
    Incident("KW-EASTCHOSIN", "East of Chosin (Task Force Faith)", "1950-11-27", "1950-12-01",
             "east shore of the Chosin (Changjin) Reservoir", 40.50, 127.30,
             "31st Regimental Combat Team, 7th Infantry Division", "Army",
             "Task Force Faith destroyed east of the reservoir; most dead left on the field.", _EAST, 0.10),
    Incident("KW-HOENGSONG", "Battle of Hoengsong", "1951-02-11", "1951-02-13", "Hoengsong, Gangwon",
             37.50, 127.98, "2nd Infantry Division support forces", "Army",
             "Killed or missing in the withdrawal north of Hoengsong.", _MOSSMAN, 0.06),
    Incident("KW-CHIPYONG", "Battle of Chipyong-ni", "1951-02-13", "1951-02-15", "Chipyong-ni, Gyeonggi",
             37.47, 127.68, "23rd Infantry Regiment, 2nd Infantry Division", "Army",
             "Killed or missing in the perimeter defence.", _MOSSMAN, 0.01),
    Incident("KW-HEARTBREAK", "Battle of Heartbreak Ridge", "1951-09-13", "1951-10-15",
             "Heartbreak Ridge, north of Yanggu", 38.30, 128.10, "2nd Infantry Division", "Army",
             "Killed or missing in the assaults on the ridge.", _HERMES, 0.03),
    Incident("KW-PORKCHOP", "Battle of Pork Chop Hill", "1953-07-06", "1953-07-11",
             "Pork Chop Hill, near Yeoncheon", 38.25, 127.00, "7th Infantry Division", "Army",
             "Killed or missing in the last defence of the outpost.", _HERMES, 0.02),
    Incident("KW-POWCAMP5", "Deaths in captivity, Camp 5 (Pyoktong)", "1951-01-20", "1953-07-27",
             "Pyoktong, North Pyongan (Yalu River)", 40.60, 125.00, "various units", "Army/Marine Corps",
             "Died as prisoners of war; buried by fellow prisoners near the camp.", _POW, 0.20),
)


def battles() -> list[Incident]:
    """The battle incidents (see :data:`BATTLES`)."""
    return list(BATTLES)


def air_losses() -> list[Incident]:
    """Air losses with missing crew, from the shipped THOR extract (one incident per mission).

    Missions of ``THOR_KOREAN_DATA`` give the number of airmen missing; B-29 losses of
    ``THOR_KOREAN_EXTR_DATA`` give no count, and 11 crew per aircraft lost are assumed.
    """
    text = resources.files("dogtag.data.korean_war").joinpath("air_losses.csv").read_text(encoding="utf-8")
    out = []
    for r in csv.DictReader(text.splitlines()):
        crew = int(r["mia"]) if r["mia"] else 11 * int(r["aircraft_lost"])
        lat = float(r["latitude"]) if r["latitude"] else None
        lon = float(r["longitude"]) if r["longitude"] else None
        src = "EXTR" if r["source"].endswith("EXTR_DATA") else "MSN"
        target = f", target {r['target']}" if r["target"] else ""
        out.append(Incident(
            f"KW-AIR-{src}-{r['row']}", f"{r['aircraft']} loss, {r['unit']}", r["date"], r["date"],
            f"air mission{target}", lat, lon, r["unit"], "Air Force",
            f"{r['aircraft_lost']} aircraft lost, {crew} airmen missing (THOR {r['source']} row {r['row']}).",
            f"USAF THOR Korea, {r['source']} row {r['row']}", 0.0, crew))
    return out
