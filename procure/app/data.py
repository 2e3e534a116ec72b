"""Data page: upload a workbook, start from the demo, download the blank template; see the
problems of a workbook that cannot be used; view and edit its tables.

Uploads go through :func:`procure.app.shared.read_upload` (the command line's reader). An
edit is used only after the edited tables pass ``procure.validate_tables`` again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from procure.app import shared
from procure.data.errors import InputError
from procure.data.schema import SHEETS, Column
from procure.data.tables import ProcureData
from procure.data.validate import RawTables, validate_tables
from procure.data.writer import sheet_frames

UPLOAD_KEY = "procure_upload"
UPLOADED_ID_KEY = "procure_uploaded_id"
EDIT_PROBLEMS_KEY = "procure_edit_problems"
FLASH_KEY = "procure_data_flash"
APPLY_KEY = "procure_apply_edits"


def editor_key(sheet: str, version: int) -> str:
    """session_state key of a sheet's editor (new for every version of the workbook)."""
    return f"procure_edit_{sheet}_{version}"


def render() -> None:
    st.title("Data")
    source_panel()
    wb = shared.current_workbook()
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    status_panel(wb)
    if wb.ok:
        tables_panel(wb)


# --------------------------------------------------------------------------- source


def source_panel() -> None:
    """Where the workbook comes from: an upload, the demo, or the blank template to fill in."""
    left, middle, right = st.columns([3, 1, 1], vertical_alignment="center")
    with left:
        upload = st.file_uploader(
            "Upload a workbook (.xlsx)", type=["xlsx"], key=UPLOAD_KEY,
            max_upload_size=shared.MAX_UPLOAD_MB,
            help="One sheet per table (Partners, Items, Suppliers, Offers, Demand, ...). It is "
                 "checked with the same reader as the command line: macros, damaged files and "
                 f"zip bombs are refused. At most {shared.MAX_UPLOAD_MB} MB.")
    with middle:
        if st.button("Start from the demo", icon=":material/restart_alt:",
                     help="Twelve partners pooling five years of ammunition, air defence, "
                          "drones and equipment (docs/demo.md)."):
            shared.use_workbook(shared.demo_workbook())
            st.session_state[FLASH_KEY] = "The demo workbook is in use."
            st.rerun()
    with right:
        st.download_button("Blank template", data=shared.template_bytes(),
                           file_name="procure-template.xlsx", mime=shared.XLSX_MIME,
                           icon=":material/download:",
                           help="An empty workbook with every sheet and a Help sheet listing "
                                "each column, its default and unit.")
    if upload is not None and st.session_state.get(UPLOADED_ID_KEY) != upload.file_id:
        st.session_state[UPLOADED_ID_KEY] = upload.file_id
        with shared.guard(f"reading {upload.name}"):
            wb = shared.read_upload(upload.name, upload.getvalue())
            shared.use_workbook(wb)
            if wb.ok:
                st.session_state[FLASH_KEY] = f"{wb.name} is read and valid."


def status_panel(wb: shared.Workbook) -> None:
    """Valid (with the sizes and warnings), or the problems table."""
    if not wb.ok:
        shared.show_problems(wb.problems, f"{wb.name} cannot be used")
        st.info("Fix these in the workbook and upload it again, or start from the demo.")
        return
    counts = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in wb.data.summary().items())
    st.markdown(f"**{wb.name}** is valid: {counts}.")
    shared.show_warnings(wb.warnings)
    st.page_link(shared.PAGE_FILES["plan"], label="See the plan", icon=":material/account_tree:")


# --------------------------------------------------------------------------- tables


def editable_frames(data: ProcureData) -> dict[str, pd.DataFrame]:
    """Each sheet of ``data`` as the cells a workbook holds (``procure.data.writer``), indexed
    by the row a problem would name; sheets the data leaves empty too, so rows can be added."""
    given = sheet_frames(data)
    frames = {}
    for name, sheet in SHEETS.items():
        frame = given.get(name)
        if frame is None:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in sheet.column_names})
        if name == "Settings":  # values are text in the sheet
            frame = frame.assign(value=[f"{v:g}" if isinstance(v, float) else str(v)
                                        for v in frame["value"]]).astype(object)
            frame.index = pd.RangeIndex(2, len(frame) + 2)
        else:
            frame = shared.editable_numbers(frame, [c for c in frame.columns
                                                    if frame[c].dtype == "float64"])
        frame.index.name = "row"
        frames[name] = frame
    return frames


def column_config(columns: tuple[Column, ...]) -> dict:
    """Editor columns from the schema: the help text is the template's."""
    config = {"_index": st.column_config.NumberColumn("row", help="Row as Excel shows it; new "
                                                      "rows are numbered after the last.")}
    for col in columns:
        parts = [col.description, "Required." if col.required else f"Blank: {col.default_text}."]
        if col.unit:
            parts.append(f"Unit: {col.unit}.")
        text = " ".join(p for p in parts if p)
        if col.choices:
            config[col.name] = st.column_config.SelectboxColumn(
                col.name, options=list(col.choices), help=text, required=col.required)
        elif col.kind in ("number", "integer"):
            # money and quantities with thousands separators; shares and factors as typed
            large = col.unit.startswith(("currency", "units", "supplier units per period"))
            config[col.name] = st.column_config.NumberColumn(
                col.name, help=text, required=col.required, min_value=col.minimum,
                max_value=col.maximum, step=1 if col.kind == "integer" else None,
                format="localized" if large else None)
        else:
            config[col.name] = st.column_config.TextColumn(col.name, help=text,
                                                           required=col.required)
    return config


def pending_edits(version: int) -> list[str]:
    """Sheets whose editor holds changes not yet used."""
    out = []
    for name in SHEETS:
        state = st.session_state.get(editor_key(name, version))
        if isinstance(state, dict) and any(state.get(k) for k in
                                           ("edited_rows", "added_rows", "deleted_rows")):
            out.append(name)
    return out


def numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """The editor's table with every row labelled: added rows get the numbers after the last."""
    labels = pd.to_numeric(pd.Series(frame.index, dtype=object), errors="coerce")
    start = int(labels.max()) + 1 if labels.notna().any() else 2
    missing = labels.isna() | labels.duplicated()
    labels[missing] = range(start, start + int(missing.sum()))
    return frame.set_axis(pd.Index(labels.astype(int).to_numpy(), name="row"))


def check_edits(frames: dict[str, pd.DataFrame]) -> ProcureData:
    """The edited tables, validated exactly as a workbook is; rows named as the editor shows
    them. Raises :class:`procure.InputError` with every problem."""
    tables = RawTables({name: numbered(frame) for name, frame in frames.items()},
                       source="the Data page's editor")
    return validate_tables(tables, source="the Data page's editor")


def tables_panel(wb: shared.Workbook) -> None:
    """Every sheet in an editor; edits are checked, then used."""
    st.subheader("Tables")
    st.caption("Edit cells, add or delete rows, then press **Check and use the edits**: the "
               "tables are validated like an uploaded workbook, and the plan uses them only "
               "if they pass. Hover over a column name for its meaning.")
    frames = editable_frames(wb.data)
    tabs = st.tabs(list(frames))
    edited = {}
    for tab, (name, frame) in zip(tabs, frames.items(), strict=True):
        with tab:
            st.caption(SHEETS[name].description)
            edited[name] = st.data_editor(
                frame, key=editor_key(name, wb.version), num_rows="dynamic", width="stretch",
                column_config=column_config(SHEETS[name].columns), hide_index=False)
    pending = pending_edits(wb.version)
    if pending:
        st.info("Edits not used yet in: " + ", ".join(pending) + ".")
    if st.button("Check and use the edits", key=APPLY_KEY, type="primary", disabled=not pending,
                 icon=":material/check:"):
        with shared.guard("checking the edits"):
            try:
                data = check_edits(edited)
            except InputError as exc:
                st.session_state[EDIT_PROBLEMS_KEY] = (wb.version, exc.problems)
            else:
                name = wb.name if wb.name.endswith("(edited)") else f"{wb.name} (edited)"
                st.session_state.pop(EDIT_PROBLEMS_KEY, None)
                shared.use_workbook(shared.Workbook.from_data(name, "edited", data))
                st.session_state[FLASH_KEY] = (f"The edits are valid and in use ({name}); the "
                                               "plan is solved again on the Plan page.")
                st.rerun()
    held = st.session_state.get(EDIT_PROBLEMS_KEY)
    if held is not None and held[0] == wb.version:
        shared.show_problems(held[1], "The edits are not used")


if __name__ == "__main__":
    render()
