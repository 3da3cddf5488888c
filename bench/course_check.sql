-- The course check of scripts/course_check.rhai as one SQL query, as of 2019-02-20:
-- how many filed courses break at least one rule. Load courses.csv first:
--   sqlite3 city.sqlite ".mode csv" ".import courses.csv courses"
WITH c AS (
  SELECT c.*,
         CAST(substr(daily_end_time, 1, 2) AS INTEGER) * 60 + CAST(substr(daily_end_time, 4, 2) AS INTEGER) AS endm,
         -- days one prepayment covers and days of the course, kept whole: "exactly 60 hours"
         -- must not become 60.000000001 through a float division
         CASE WHEN CAST(prepay_months AS INTEGER) <= 0 THEN 0
              ELSE MIN(CAST(julianday(date(starts_on, '+' || prepay_months || ' months')) - julianday(starts_on) AS INTEGER),
                       CAST(julianday(ends_on) - julianday(starts_on) AS INTEGER) + 1) END AS covered,
         CAST(julianday(ends_on) - julianday(starts_on) AS INTEGER) + 1 AS days,
         (COALESCE(i.licence_no, '') <> '' AND i.licence_issued <= '2019-02-20' AND i.licence_expires >= '2019-02-20') AS licensed
  FROM courses c LEFT JOIN institutions i ON i.id = c.institution_id
  WHERE c.status = 'filed' AND c.filed_on <= '2019-02-20'
)
SELECT count(*) AS rejected FROM c
WHERE endm > CASE WHEN mode = 'online' THEN 1260 ELSE 1230 END
   OR CAST(prepay_months AS INTEGER) > 3
   OR CAST(class_hours AS INTEGER) * covered > 60 * days
   OR (subject_type = 'subject' AND NOT licensed)
   OR (subject_type = 'non_subject' AND CAST(fee_total AS REAL) * covered > 5000 * days);
