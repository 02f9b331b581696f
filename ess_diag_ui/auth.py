"""The admin password gate of the import, facilitation and projection pages.

- On this computer only (``server.address`` 127.0.0.1, ``make run``): a page asks for the password
  when one is configured, and is open otherwise (as before).
- In network mode (any other address, ``make run-lan``): the import and facilitation pages, and
  the projection page, always ask for it, whoever asks — the client's address is never trusted
  (behind a reverse proxy every request comes from 127.0.0.1). Without a password configured
  they show only a French explanation.

Failed attempts are counted per browser session and per client address in :data:`THROTTLE`
(process-wide, bounded): each failure doubles the wait before the next attempt is accepted, and
is logged at warning level without the attempted password.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets

import streamlit as st
from streamlit import config as st_config

from ess_diag import config
from ess_diag.security import AttemptThrottle, is_network_mode

__all__ = [
    "ADMIN_KEY",
    "THROTTLE",
    "admin_password",
    "network_mode",
    "client_keys",
    "check_password",
    "require_admin",
    "apply_network_settings",
    "run_page",
]

LOG = logging.getLogger("ess_diag.auth")

#: st.session_state key set once the password was given on any protected page.
ADMIN_KEY = "admin_ok"
#: Failed attempts of every session of this server process: one typo is free, then the wait
#: doubles (2 s, 4 s, 8 s… up to 5 min).
THROTTLE = AttemptThrottle(base=2.0, cap=300.0, free=1, max_keys=4096)

NO_PASSWORD_TEXT = (
    "**Page réservée à l'animateur.** ESS Diag est servi sur le réseau local et aucun mot de "
    "passe administrateur n'est défini : cette page reste fermée pour que les personnes "
    "connectées au même Wi-Fi ne puissent ni importer de fichiers, ni voir les ateliers et "
    "leurs codes.\n\n"
    "Relancez l'application avec `make run-lan` (qui crée et affiche un mot de passe), ou "
    "définissez la variable d'environnement `ESS_DIAG_ADMIN_PASSWORD` avant de la démarrer. "
    "La page *Participer* reste ouverte à tous."
)
ERROR_TEXT = (
    "Une erreur inattendue est survenue sur cette page. Les détails ont été écrits dans le "
    "journal du serveur (la console de l'animateur). Rechargez la page ou revenez à l'accueil."
)


def admin_password() -> str | None:
    """The admin password: ``ESS_DIAG_ADMIN_PASSWORD`` or ``admin_password`` in secrets."""
    value = config.admin_password()
    if value:
        return value
    try:
        return st.secrets.get("admin_password") or None
    except Exception:  # no secrets.toml: Streamlit raises rather than returning nothing
        return None


def network_mode() -> bool:
    """Whether this server listens beyond this computer (see :func:`is_network_mode`)."""
    return is_network_mode(st_config.get_option("server.address"))


def _session_id() -> str:
    """A random identifier of this browser session (kept in its session state)."""
    token = st.session_state.get("_auth_session")
    if not token:
        token = st.session_state["_auth_session"] = secrets.token_hex(8)
    return token


def client_keys() -> list[tuple[str, str]]:
    """The throttle keys of this request: its browser session and its client address.

    ``st.context.ip_address`` is None for loopback connections: they share the key
    ``address:local`` (so does everyone behind a reverse proxy: fail closed).
    """
    try:
        ip = st.context.ip_address
    except Exception:  # outside a browser session
        ip = None
    return [("session", _session_id()), ("address", ip if isinstance(ip, str) else "local")]


def check_password(given: str, expected: str, page: str) -> tuple[bool, str]:
    """One attempt: ``(True, "")`` or ``(False, French message)``; throttled and logged."""
    keys = client_keys()
    wait = THROTTLE.wait(keys)
    if wait > 0:
        return False, f"Trop de tentatives : réessayez dans {math.ceil(wait)} s."
    if hmac.compare_digest(given.encode(), expected.encode()):
        THROTTLE.success(keys)
        return True, ""
    delay = math.ceil(THROTTLE.failure(keys))
    LOG.warning(
        "Mot de passe administrateur refusé (page %s, adresse %s, échec n° %d de cette "
        "session) : prochain essai accepté dans %d s",
        page,
        keys[1][1],
        THROTTLE.failures(keys[0]),
        delay,
    )
    if delay:
        return False, f"Mot de passe incorrect. Trop de tentatives : réessayez dans {delay} s."
    return False, "Mot de passe incorrect."


def require_admin(intro: str, state_key: str, *, network_only: bool = False) -> None:
    """Stop the page with a password form unless access is granted.

    ``network_only=True`` (projection) leaves the page open on this computer only. The password
    given on one protected page opens the others for this browser session.
    """
    networked = network_mode()
    if network_only and not networked:
        return
    expected = admin_password()
    if not expected:
        if networked:
            st.warning(NO_PASSWORD_TEXT)
            st.stop()
        return
    if st.session_state.get(state_key) or st.session_state.get(ADMIN_KEY):
        st.session_state[state_key] = True
        return
    st.info(intro)
    with st.form(f"{state_key}_login"):
        given = st.text_input("Mot de passe administrateur", type="password")
        submitted = st.form_submit_button("Entrer")
    if submitted:
        ok, message = check_password(given or "", expected, state_key)
        if ok:
            st.session_state[state_key] = True
            st.session_state[ADMIN_KEY] = True
            st.rerun()
        st.error(message)
    st.stop()


def apply_network_settings() -> None:
    """In network mode, errors show no detail to the browser (Streamlit option set per run)."""
    if network_mode():
        st.set_option("client.showErrorDetails", "none")


def run_page(page) -> None:
    """Run the navigation's page; in network mode an error shows a French message, the
    traceback going to the server's log only."""
    apply_network_settings()
    if not network_mode():
        page.run()
        return
    try:
        page.run()
    except Exception:  # st.stop/st.rerun are BaseException: they pass through
        LOG.exception("Erreur sur la page %s", getattr(page, "title", "?"))
        st.error(ERROR_TEXT)
