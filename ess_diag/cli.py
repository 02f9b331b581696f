"""The ``ess-diag`` command: a thin layer over the package (no logic of its own).

Each subcommand is a ``cmd_*`` function taking the parsed arguments and returning an exit code,
registered in :func:`build_parser`. Messages are in French; ``--json`` output is for scripts.
Heavy modules are imported inside the commands so that ``ess-diag indicators`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .vocabulary import FRANCE_CODE, LEVELS

__all__ = ["main", "build_parser"]


def _print_json(payload) -> None:
    json.dump(payload, sys.stdout, ensure_ascii=False, indent=2, default=_json_default)
    sys.stdout.write("\n")


def _json_default(value):
    import datetime as dt

    import numpy as np

    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"non sérialisable : {type(value).__name__}")


def _err(message: str) -> None:
    print(f"Erreur : {message}", file=sys.stderr)


# --------------------------------------------------------------------------- init


def cmd_init(args: argparse.Namespace) -> int:
    """Build the database: the reference geography, then the demo data unless --empty.

    On an existing database: ``--empty`` removes the demo data in place (imports and workshops
    are kept), ``--demo`` adds it if absent; ``--force`` rebuilds from nothing after keeping a
    dated copy of the old file.
    """
    import datetime as dt

    from . import config, store

    path = config.db_path(args.db)
    if path.exists() and args.if_missing:
        print(f"Base déjà présente : {path} (rien à faire).")
        return 0
    if path.exists() and not args.force:
        return _init_existing(path, args)
    if path.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{path.stem}-{stamp}{path.suffix}.bak")
        path.replace(backup)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        print(f"Ancienne base conservée sous {backup}.")
    started = time.perf_counter()
    # Build into a temporary file, then move it in place: an interrupted build never leaves a
    # half-built database where the app expects a complete one.
    building = path.with_name(path.name + ".building")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = store.connect(building)
    try:
        counts = _build(con, with_demo=not args.empty, quiet=args.quiet)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    building.replace(path)
    elapsed = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6
    print(
        f"Base prête : {path} — {counts.get('commune', 0)} communes, {counts.get('epci', 0)} EPCI, "
        f"{counts.get('departement', 0)} départements, {counts.get('region', 0)} régions "
        f"({'sans' if args.empty else 'avec'} données de démonstration), "
        f"{elapsed:.1f} s, {size_mb:.0f} Mo."
    )
    return 0


def _build(con, *, with_demo: bool, quiet: bool = False) -> dict:
    from . import geography, nomenclatures, store

    def say(msg: str) -> None:
        if not quiet:
            print(f"  {msg}")

    print("Construction du référentiel géographique (toute la France)…")
    counts = geography.build(con, progress=say)
    nomenclatures.register(con)
    if with_demo:
        from . import demo

        print("Chargement des données de démonstration (simulées)…")
        demo.load(con)
    else:
        store.set_meta(con, "demo", "0")
    return counts


def _init_existing(path, args: argparse.Namespace) -> int:
    from . import store

    con = store.connect(path)
    try:
        has_demo = store.get_meta(con, "demo") == "1"
        if args.empty:
            if not has_demo:
                print(f"Base {path} : aucune donnée de démonstration à retirer.")
                return 0
            from . import demo

            demo.unload(con)
            print(f"Données de démonstration retirées de {path} (vos imports sont conservés).")
            return 0
        if has_demo:
            print(
                f"Base déjà présente avec les données de démonstration : {path}. "
                "Pour tout reconstruire : ess-diag init --force."
            )
            return 0
        from . import demo

        demo.load(con)
        print(f"Données de démonstration ajoutées à {path}.")
        return 0
    finally:
        con.close()


# --------------------------------------------------------------------------- territories


def cmd_territories(args: argparse.Namespace) -> int:
    """List territories of a level, optionally within a parent."""
    from . import geography, store

    if bool(args.parent_level) != bool(args.parent):
        _err("--parent-level et --parent vont ensemble.")
        return 2
    con = store.connect(args.db, read_only=True)
    try:
        frame = geography.territories(con, args.level, args.parent_level, args.parent)
    finally:
        con.close()
    records = [
        {
            "level": row["level"],
            "code": row["code"],
            "name": row["name"],
            "population": int(row["population"]),
            "area_km2": None if row["area_km2"] != row["area_km2"] else round(row["area_km2"], 2),
            "commune_count": int(row["commune_count"]),
            "epci_code": row["epci_code"],
            "departement_code": row["departement_code"],
            "region_code": row["region_code"],
        }
        for row in frame.to_dict("records")
    ]
    for record in records:
        for key in ("epci_code", "departement_code", "region_code"):
            if not isinstance(record[key], str):
                record[key] = None
    if args.json:
        _print_json(records)
    else:
        from .formatting import fmt_int

        for r in records:
            print(f"{r['code']:>10}  {r['name']}  ({fmt_int(r['population'])} hab.)")
        print(f"{len(records)} territoires.")
    return 0


# --------------------------------------------------------------------------- indicators


def cmd_indicators(args: argparse.Namespace) -> int:
    """The full indicator set of one territory (``indicators.compute``), as JSON or a summary."""
    from . import indicators, store

    code = args.code or (FRANCE_CODE if args.level == "france" else None)
    if code is None:
        _err("indiquez le code du territoire (pour la France : FR).")
        return 2
    con = store.connect(args.db, read_only=True)
    try:
        doc = indicators.compute(con, args.level, code, year=args.year)
    finally:
        con.close()
    if args.json:
        _print_json(doc)
    else:
        print(indicators.summary_text(doc))
    return 0


# --------------------------------------------------------------------------- acteurs


def cmd_acteurs(args: argparse.Namespace) -> int:
    """The territory's ESS actors as CSV or XLSX: the Acteurs page's download, for scripts."""
    from . import actor_list, exports, geography, store

    code = args.code or (FRANCE_CODE if args.level == "france" else None)
    if code is None:
        _err("indiquez le code du territoire (pour la France : FR).")
        return 2
    out = Path(args.out)
    if not out.parent.is_dir():
        _err(f"le dossier « {out.parent} » n'existe pas.")
        return 2
    con = store.connect(args.db, read_only=True)
    try:
        geography.territory(con, args.level, code)  # unknown territory: French ValueError
        frame = actor_list.export_table(
            con,
            args.level,
            code,
            family=args.famille,
            sector=args.secteur,
            network=args.reseau,
            seeking_partners=args.cherche_partenaires,
        )
    finally:
        con.close()
    data = (
        exports.csv_bytes(frame) if args.format == "csv" else exports.xlsx_bytes(frame, "acteurs")
    )
    out.write_bytes(data)
    print(f"{len(frame)} acteurs écrits dans {out}.", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- sourcing


def cmd_sourcing(args: argparse.Namespace) -> int:
    """Structures offering a purchase segment near a site (``sourcing.search``); exit 2 for an
    unknown segment or commune, a bad site or radius."""
    from . import nomenclatures, sourcing, store
    from .formatting import fmt_num

    con = store.connect(args.db, read_only=True)
    try:
        try:
            if args.site is not None:
                parts = args.site.replace(";", ",").split(",")
                if len(parts) != 2:
                    raise sourcing.SourcingError(
                        "--site attend « LAT,LON » en degrés décimaux (ex. 45.95,5.35)."
                    )
                site = sourcing.site_at(parts[0].strip(), parts[1].strip())
            else:
                site = sourcing.site_for_commune(con, args.commune)
            result = sourcing.search(con, site, args.rayon, args.segment, min_jobs=args.emplois_min)
        except sourcing.SourcingError as exc:
            _err(str(exc))
            return 2
    finally:
        con.close()
    if args.json:
        _print_json(result.to_dict())
        return 0
    print(
        f"{result.segment_label} à moins de "
        f"{fmt_num(result.radius_km, 0 if result.radius_km.is_integer() else 1)} km de "
        f"{result.site.label} : {len(result.results)} structure(s)."
    )
    for basis, n in result.by_legal_basis.items():
        print(f"  {basis} ({nomenclatures.LEGAL_BASES[basis][0]}) : {n}")
    print(f"  Capacité totale : {fmt_num(result.total_jobs, 1)} emplois")
    if result.results:
        print()
        print(f"{'km':>6}  {'SIRET':<14}  {'emplois':>8}  {'type':<5}  {'bases':<18}  nom")
        for r in result.results:
            jobs = "—" if r["jobs"] is None else fmt_num(r["jobs"], 1)
            if r["jobs_source"] == "estimate":
                jobs += "*"
            print(
                f"{fmt_num(r['distance_km'], 1):>6}  {r['siret'] or '—':<14}  {jobs:>8}  "
                f"{r['inclusive_kind'] or '—':<5}  {', '.join(r['legal_bases']) or '—':<18}  "
                f"{r['name']}"
            )
        print("(* emplois estimés d'après la tranche d'effectif SIRENE)")
    if result.min_jobs is not None and not result.reached_by_one:
        print()
        print(f"Aucune structure seule n'atteint {fmt_num(result.min_jobs, 0)} emplois.")
        for g in result.groupings:
            names = " + ".join(m["name"] for m in g["members"])
            print(
                f"  Groupement possible : {names} ({fmt_num(g['jobs'], 1)} emplois, "
                f"jusqu'à {fmt_num(g['max_distance_km'], 1)} km)"
            )
        if not result.groupings:
            print("  Aucun groupement de 2 ou 3 structures proches ne l'atteint non plus.")
    return 0


# --------------------------------------------------------------------------- carte


def cmd_carte(args: argparse.Namespace) -> int:
    """A printable map (``ess_diag.print_map``): PDF, SVG or the A4 mosaic PDF."""
    from . import print_map, store
    from .formatting import fmt_int

    code = args.code or (FRANCE_CODE if args.level == "france" else None)
    if code is None:
        _err("indiquez le code du territoire (pour la France : FR).")
        return 2
    out = Path(args.out)
    if not out.parent.is_dir():
        _err(f"le dossier « {out.parent} » n'existe pas.")
        return 2
    if args.mosaique and args.format != "pdf":
        _err("la mosaïque A4 s'imprime en PDF : retirez --format svg.")
        return 2
    request = print_map.PrintRequest(
        args.level,
        code,
        indicator=args.indicateur,
        child_level=args.decoupage,
        actors=args.acteurs,
        zones_sector=args.zones_blanches,
        page=args.page,
        orientation=args.orientation,
        year=args.year,
    )
    started = time.perf_counter()
    con = store.connect(args.db, read_only=True)
    try:
        data, layout = print_map.render(con, request, args.format, mosaic=args.mosaique)
    finally:
        con.close()
    out.write_bytes(data)
    what = "mosaïque A4" if args.mosaique else args.format.upper()
    print(
        f"Carte {what} {args.page} {args.orientation} écrite dans {out} : échelle "
        f"1:{fmt_int(layout.scale)}, {len(layout.labels)} noms ({len(layout.index)} numérotés), "
        f"{time.perf_counter() - started:.1f} s.",
        file=sys.stderr,
    )
    return 0


# --------------------------------------------------------------------------- import


def cmd_import(args: argparse.Namespace) -> int:
    """Import files (``ess_diag.ingest.run_import``); exit 1 when rejected."""
    from . import ingest, store

    con = store.connect(args.db)
    progress = None if args.quiet else _ImportProgress(sys.stderr)
    try:
        report = ingest.run_import(
            con, args.files, kind=args.kind, dry_run=args.dry_run, progress=progress
        )
    finally:
        con.close()
    if args.json:
        _print_json(report.to_dict())
    else:
        print("\n".join(report.summary()))
    return 0 if report.ok else 1


class _ImportProgress:
    """The import's progress on stderr (stdout stays the report): a line when the step
    changes, and at most every 2 seconds within a long step (rows read, rate, time left)."""

    def __init__(self, stream, every: float = 2.0):
        self._stream, self._every = stream, every
        self._last_step: str | None = None
        self._last_time = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        step = message.split(" :", 1)[0].rstrip("…")
        now = time.monotonic()
        if step == self._last_step and now - self._last_time < self._every:
            return
        self._last_step, self._last_time = step, now
        print(f"[{fraction * 100:3.0f} %] {message}", file=self._stream, flush=True)


def cmd_imports(args: argparse.Namespace) -> int:
    """Import history (``list``) and undo (``undo IMPORT_ID``)."""
    from . import ingest, store

    con = store.connect(args.db, read_only=args.action == "list")
    try:
        if args.action == "list":
            frame = ingest.list_imports(con)
            records = frame.to_dict("records")
            for r in records:
                r["files"] = json.loads(r["files"] or "[]")
                for key in ("created_at", "undone_at"):
                    if r[key] is None or r[key] != r[key]:
                        r[key] = None
            if args.json:
                _print_json(records)
            else:
                from .formatting import fmt_int

                for r in records:
                    names = ", ".join(f["name"] for f in r["files"])
                    state = "annulé" if r["status"] == "undone" else "en place"
                    print(
                        f"{r['import_id']}  {r['created_at']:%d/%m/%Y %H:%M}  {state}  "
                        f"{fmt_int(r['rows_loaded'])} lignes  {names}"
                    )
                print(f"{len(records)} import(s).")
            return 0
        if not args.import_id:
            _err("indiquez l'identifiant de l'import à annuler (voir « ess-diag imports list »).")
            return 2
        result = ingest.undo_import(con, args.import_id)
    finally:
        con.close()
    if args.json:
        _print_json(result)
    else:
        print(f"Import {args.import_id} annulé : la base est revenue à l'état d'avant cet import.")
    return 0


# --------------------------------------------------------------------------- atelier


def cmd_atelier(args: argparse.Namespace) -> int:
    """Workshops: ``list`` them, or ``export CODE`` the synthesis (HTML, PDF, XLSX)."""
    from . import report, store, workshop

    con = store.connect(args.db, read_only=args.action == "list")
    try:
        if args.action == "list":
            sessions = workshop.list_sessions(con)
            if args.json:
                _print_json(
                    [
                        {
                            "join_code": s.join_code,
                            "title": s.title,
                            "territory": {"level": s.territory_level, "code": s.territory_code},
                            "date": s.session_date.isoformat() if s.session_date else None,
                            "place": s.place,
                            **workshop.stats(con, s.session_id),
                        }
                        for s in sessions
                    ]
                )
            else:
                for s in sessions:
                    print(f"{s.join_code}  {s.title}  ({s.territory_name or s.territory_code})")
                print(f"{len(sessions)} atelier(s).")
            return 0
        if not args.code:
            _err("indiquez le code de l'atelier (voir « ess-diag atelier list »).")
            return 2
        session = workshop.session_by_code(con, args.code)
        files = report.export_all(con, session.session_id, args.year)
    finally:
        con.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = report.file_stem(session)
    for ext, data in files.items():
        path = out / f"{stem}.{ext}"
        path.write_bytes(data)
        print(path)
    return 0


# --------------------------------------------------------------------------- plan


def cmd_plan(args: argparse.Namespace) -> int:
    """The action plan: ``from-atelier CODE`` drafts actions from a workshop's votes; ``show``
    prints a territory's plan; ``export`` writes it with its evaluation (XLSX + PDF)."""
    from . import plan, store, workshop
    from .formatting import fmt_date

    if args.action == "from-atelier":
        con = store.connect(args.db)
        try:
            session = plan.resolve_session(con, args.code)
            new = plan.from_workshop(con, session.session_id)
            if args.json:
                _print_json(
                    {
                        "session_id": session.session_id,
                        "join_code": session.join_code,
                        "territory": {
                            "level": session.territory_level,
                            "code": session.territory_code,
                        },
                        "created": new,
                    }
                )
            else:
                where = session.territory_name or session.territory_code
                print(
                    f"{len(new)} action(s) ajoutée(s) au plan de {where} "
                    f"depuis l'atelier « {session.title} »"
                    + (" (les contributions votées y étaient déjà)." if not new else ".")
                )
        except workshop.WorkshopError as exc:
            _err(str(exc))
            return 1
        finally:
            con.close()
        return 0
    code = args.code or (FRANCE_CODE if args.level == "france" else None)
    if not code:
        _err("indiquez le code du territoire.")
        return 2
    # Writable even to show: a base from before the plan tables gains them (migration 7).
    con = store.connect(args.db)
    try:
        if args.action == "show":
            doc = plan.show_document(con, args.level, code)
            if args.json:
                _print_json(doc)
                return 0
            print(f"Plan d'action — {doc['territory']['label']}")
            for a in doc["actions"]:
                due = f", échéance {fmt_date(a['due'])}" if a["due"] else ""
                print(f"{a['priority']:>3}. [{a['status_label']}] {a['title']}{due}")
            print(f"{len(doc['actions'])} action(s).")
            return 0
        from .report import plan_export

        files = plan_export.export_all(con, args.level, code)
    finally:
        con.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        print(path)
    return 0


# --------------------------------------------------------------------------- parser


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="chemin de la base DuckDB (défaut : $ESS_DIAG_DB ou data/ess_diag.duckdb)",
    )


def _segment_keys() -> list[str]:
    from .nomenclatures import PURCHASE_SEGMENT_LABELS

    return list(PURCHASE_SEGMENT_LABELS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ess-diag",
        description="ESS Diag — diagnostic territorial partagé de l'économie sociale et solidaire.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    p = sub.add_parser(
        "init",
        help="construire la base (géographie réelle + données de démonstration)",
        description="Construit la base : référentiel géographique de toute la France, puis un "
        "jeu de données de démonstration (simulé) sauf avec --empty.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true", help="avec données de démonstration (défaut)")
    mode.add_argument("--empty", action="store_true", help="sans données de démonstration")
    p.add_argument("--if-missing", action="store_true", help="ne rien faire si la base existe déjà")
    p.add_argument(
        "--force",
        action="store_true",
        help="reconstruire entièrement une base existante (une copie datée est conservée)",
    )
    p.add_argument("--quiet", action="store_true", help="moins de messages")
    _add_db(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "territories",
        help="lister les territoires d'un niveau",
        description="Liste les territoires d'un niveau (éventuellement dans un territoire parent).",
    )
    p.add_argument("--level", required=True, choices=LEVELS)
    p.add_argument("--parent-level", choices=LEVELS)
    p.add_argument("--parent", metavar="CODE")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    _add_db(p)
    p.set_defaults(func=cmd_territories)

    # Other subcommands (import, imports, indicators…) are registered below this line, each as
    # a small block calling a cmd_* function.

    p = sub.add_parser(
        "indicators",
        help="indicateurs du diagnostic d'un territoire",
        description="Calcule l'ensemble des indicateurs d'un territoire (emploi, familles, "
        "secteurs, ruralité, évolution, résilience, comparaisons, zones blanches). Chaque clé "
        "du JSON est définie dans docs/methodologie.md.",
    )
    p.add_argument("--level", required=True, choices=LEVELS)
    p.add_argument("code", nargs="?", metavar="CODE", help="code du territoire (France : FR)")
    p.add_argument("--year", type=int, help="année (défaut : la plus récente chargée)")
    p.add_argument("--json", action="store_true", help="sortie JSON (document stable)")
    _add_db(p)
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser(
        "acteurs",
        help="exporter la liste des acteurs de l'ESS d'un territoire (CSV ou XLSX)",
        description="Écrit les acteurs de l'ESS actifs du territoire, les plus grands employeurs "
        "d'abord, avec les colonnes et les règles de confidentialité de la page Acteurs (les "
        "entrées en diffusion partielle ne montrent ni nom ni adresse). Les cellules qu'un tableur "
        "prendrait pour une formule sont écrites comme du texte.",
    )
    p.add_argument("--level", required=True, choices=LEVELS)
    p.add_argument("code", nargs="?", metavar="CODE", help="code du territoire (France : FR)")
    p.add_argument("--famille", metavar="F", help="clé de famille (ex. association)")
    p.add_argument("--secteur", metavar="S", help="clé de secteur (ex. sante)")
    p.add_argument(
        "--reseau",
        metavar="NOM",
        help="seulement les membres de ce réseau (PTCE, GME… ; casse ignorée)",
    )
    p.add_argument(
        "--cherche-partenaires",
        action="store_true",
        help="seulement les acteurs qui ont déclaré des besoins (colonne « Besoins »)",
    )
    p.add_argument("--format", required=True, choices=("csv", "xlsx"))
    p.add_argument("--out", required=True, metavar="FICHIER", help="fichier à écrire")
    _add_db(p)
    p.set_defaults(func=cmd_acteurs)

    p = sub.add_parser(
        "sourcing",
        help="acheter à l'ESS : structures proches offrant un segment d'achat",
        description="Liste les structures actives (ESS ou inclusives) qui offrent un segment "
        "d'achat dans un rayon autour d'un site, de la plus proche à la plus lointaine, avec "
        "les bases légales de marché réservé qu'elles ouvrent (L2113-12, L2113-13, L2113-15), "
        "et des groupements possibles quand aucune n'atteint seule le nombre d'emplois "
        "demandé. Segments : " + ", ".join(_segment_keys()) + ".",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--site", metavar="LAT,LON", help="site en degrés décimaux")
    where.add_argument("--commune", metavar="CODE", help="code INSEE de la commune du site")
    p.add_argument("--rayon", required=True, type=float, metavar="KM", help="rayon en km")
    p.add_argument("--segment", required=True, metavar="CLE", help="clé du segment d'achat")
    p.add_argument(
        "--emplois-min", type=float, metavar="N", help="nombre minimal d'emplois attendu"
    )
    p.add_argument("--json", action="store_true", help="sortie JSON")
    _add_db(p)
    p.set_defaults(func=cmd_sourcing)

    p = sub.add_parser(
        "carte",
        help="carte imprimable pour le paperboard (PDF ou SVG vectoriel, A4 à A0)",
        description="Dessine la carte d'un indicateur sur une page A4 à A0 : le territoire à "
        "l'échelle (Lambert 93), ses communes (ou EPCI…) nommées sans chevauchement, la légende "
        "(classes, source, année), l'échelle, le nord, une marge pour écrire. --mosaique "
        "découpe la grande page en feuilles A4 avec recouvrement et traits de coupe.",
    )
    p.add_argument("--level", required=True, choices=LEVELS)
    p.add_argument("code", nargs="?", metavar="CODE", help="code du territoire (France : FR)")
    p.add_argument(
        "--indicateur",
        default="ess_share_private_jobs",
        metavar="CLE",
        help="indicateur représenté : ess_share_private_jobs (défaut), ess_jobs, "
        "ess_establishments, jobs_per_1000_inhabitants",
    )
    p.add_argument(
        "--decoupage",
        choices=LEVELS,
        help="territoires dessinés (défaut : communes quand le niveau le permet)",
    )
    p.add_argument("--acteurs", action="store_true", help="acteurs employeurs par famille")
    p.add_argument(
        "--zones-blanches",
        metavar="SECTEUR",
        help="hachurer les communes sans établissement de l'ESS de ce secteur (ex. commerce)",
    )
    p.add_argument("--page", default="A3", choices=("A4", "A3", "A2", "A1", "A0"))
    p.add_argument("--orientation", default="paysage", choices=("portrait", "paysage"))
    p.add_argument("--format", default="pdf", choices=("pdf", "svg"))
    p.add_argument(
        "--mosaique",
        action="store_true",
        help="mosaïque A4 : la page découpée en feuilles A4 (PDF) avec plan d'assemblage",
    )
    p.add_argument("--year", type=int, help="année (défaut : la plus récente chargée)")
    p.add_argument("--out", required=True, metavar="FICHIER", help="fichier à écrire")
    _add_db(p)
    p.set_defaults(func=cmd_carte)

    p = sub.add_parser(
        "import",
        help="importer des fichiers (SIRENE, ESS France, statistiques…)",
        description="Importe un ou plusieurs fichiers en une seule transaction : tout est "
        "enregistré, ou rien. Code de sortie 0 : import enregistré ; 1 : refusé (la base est "
        "inchangée).",
    )
    p.add_argument("files", nargs="+", metavar="FICHIER")
    p.add_argument("--kind", metavar="FORMAT", help="forcer le format (ex. sirene_etablissements)")
    p.add_argument("--dry-run", action="store_true", help="vérifier sans rien écrire")
    p.add_argument("--json", action="store_true", help="rapport de validation en JSON")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="sans la progression (affichée sur la sortie d'erreur : lignes lues, débit, "
        "temps restant)",
    )
    _add_db(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "imports",
        help="historique des imports, annulation",
        description="« list » : historique des imports ; « undo IMPORT_ID » : annule un import "
        "(la base revient exactement à l'état d'avant).",
    )
    p.add_argument("action", choices=("list", "undo"))
    p.add_argument("import_id", nargs="?", metavar="IMPORT_ID")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    _add_db(p)
    p.set_defaults(func=cmd_imports)

    p = sub.add_parser(
        "atelier",
        help="ateliers : liste, export de la synthèse",
        description="« list » : les ateliers enregistrés ; « export CODE » : écrit la synthèse "
        "de l'atelier (HTML autonome, PDF A4, XLSX des contributions) dans --out.",
    )
    p.add_argument("action", choices=("list", "export"))
    p.add_argument("code", nargs="?", metavar="CODE", help="code de l'atelier")
    p.add_argument("--out", default=".", metavar="DOSSIER", help="dossier de sortie (défaut : .)")
    p.add_argument("--year", type=int, help="année des chiffres clés (défaut : la plus récente)")
    p.add_argument("--json", action="store_true", help="sortie JSON (list)")
    _add_db(p)
    p.set_defaults(func=cmd_atelier)

    p = sub.add_parser(
        "plan",
        help="plan d'action : depuis les votes d'un atelier, affichage, export",
        description="« from-atelier CODE » : ajoute au plan du territoire de l'atelier (code "
        "d'accès ou identifiant) ses pistes et besoins votés, les plus votés d'abord ; "
        "« show --level L CODE » : le plan du territoire (--json : document stable) ; "
        "« export --level L CODE --out DOSSIER » : plan d'action et évaluation en XLSX et PDF.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser(
        "from-atelier",
        help="ajouter au plan les pistes et besoins votés d'un atelier",
        description="Ajoute au plan du territoire de l'atelier ses pistes et besoins votés, "
        "les plus votés d'abord (les contributions sans vote sont laissées de côté).",
    )
    q.add_argument("code", metavar="CODE", help="code d'accès de l'atelier ou son identifiant")
    q.add_argument("--json", action="store_true", help="sortie JSON")
    _add_db(q)
    for name, text in (
        ("show", "afficher le plan d'un territoire"),
        ("export", "écrire le plan et l'évaluation (XLSX et PDF) dans --out"),
    ):
        q = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        q.add_argument("--level", required=True, choices=LEVELS)
        q.add_argument("code", nargs="?", metavar="CODE", help="code du territoire (France : FR)")
        if name == "show":
            q.add_argument("--json", action="store_true", help="sortie JSON (document stable)")
        else:
            q.add_argument("--out", required=True, metavar="DOSSIER", help="dossier à écrire")
        _add_db(q)
    p.set_defaults(func=cmd_plan)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .store import StoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except StoreError as exc:
        _err(str(exc))
        return 1
    except ValueError as exc:  # unknown territory/commune codes, bad levels: French messages
        _err(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
