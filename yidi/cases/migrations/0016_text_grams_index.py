"""PostgreSQL: the two-character pieces of every matter's title and description, indexed, for the case list's text
search (`cases.queries.text_filter`).

Chinese search words are mostly two characters ("工资", "物业"): `LIKE '%…%'` can use no B-tree, and pg_trgm needs
three characters to use its index. So each matter keeps `text_grams`, the distinct bigrams of its title and
description (joined by a line break), each as one integer (`yidi_text_grams`: the two characters' code points,
16 bits each; a character beyond them only widens the candidates, never loses one), in a GIN index. The search
asks for the matters holding every bigram of its words, and `LIKE` then keeps those that hold the words.

The column is written by triggers on insert and on a change of the title or description, so every way a matter
is written (the actions, the bulk registrations, the 12345 import, a bulk copy) keeps it; they fire even when
the session replication role is `replica` (a bulk load that skips foreign-key checks). Django never reads the
column (decision 0005). SQLite keeps the plain `LIKE` scan.
"""

from django.db import migrations

GRAMS = """
CREATE OR REPLACE FUNCTION yidi_text_grams(value text) RETURNS integer[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT DISTINCT (((ascii(substr(value, position, 1)) & 65535)::bigint << 16
                                   | (ascii(substr(value, position + 1, 1)) & 65535)) - 2147483648)::integer
                 FROM generate_series(1, char_length(value) - 1) AS position)
$$
"""
CASE_GRAMS = "yidi_text_grams(coalesce({row}title, '') || E'\\n' || coalesce({row}description, ''))"  # a matter's
TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION yidi_case_text_grams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.text_grams := {CASE_GRAMS.format(row="NEW.")};
    RETURN NEW;
END
$$
"""
TRIGGERS = (
    "DROP TRIGGER IF EXISTS cases_case_text_grams ON cases_case",
    "DROP TRIGGER IF EXISTS cases_case_text_grams_update ON cases_case",
    "CREATE TRIGGER cases_case_text_grams BEFORE INSERT ON cases_case "
    "FOR EACH ROW EXECUTE FUNCTION yidi_case_text_grams()",
    # a save of the whole row names the title and description without changing them: nothing to compute then
    "CREATE TRIGGER cases_case_text_grams_update BEFORE UPDATE OF title, description ON cases_case FOR EACH ROW "
    "WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description) "
    "EXECUTE FUNCTION yidi_case_text_grams()",
    "ALTER TABLE cases_case ENABLE ALWAYS TRIGGER cases_case_text_grams",
    "ALTER TABLE cases_case ENABLE ALWAYS TRIGGER cases_case_text_grams_update",
)
FORWARD = (
    GRAMS,
    "ALTER TABLE cases_case ADD COLUMN IF NOT EXISTS text_grams integer[]",
    TRIGGER_FUNCTION,
    *TRIGGERS,
    # the matters already written, in one pass (1,000,400 matters: 5 min 18 s, decision 0005)
    f"UPDATE cases_case SET text_grams = {CASE_GRAMS.format(row='')}",
    "CREATE INDEX IF NOT EXISTS cases_case_text_grams ON cases_case USING gin (text_grams)",
)
BACKWARD = (
    "DROP INDEX IF EXISTS cases_case_text_grams",
    "DROP TRIGGER IF EXISTS cases_case_text_grams ON cases_case",
    "DROP TRIGGER IF EXISTS cases_case_text_grams_update ON cases_case",
    "DROP FUNCTION IF EXISTS yidi_case_text_grams()",
    "ALTER TABLE cases_case DROP COLUMN IF EXISTS text_grams",
    "DROP FUNCTION IF EXISTS yidi_text_grams(text)",
)


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0015_query_health_indexes")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
