-- The course check of scripts/course_check.rhai as one SQL query that, like the
-- script, prints one row per rejected course with the bilingual reasons
-- (bench/course_check.sql only counts them). As of 2019-02-20; load courses.csv
-- first: sqlite3 city.sqlite ".mode csv" ".import courses.csv courses"
.mode csv
.headers on
WITH c AS (
  SELECT c.*, i.name AS inst_name, i.district AS district,
         CAST(substr(daily_end_time, 1, 2) AS INTEGER) * 60 + CAST(substr(daily_end_time, 4, 2) AS INTEGER) AS endm,
         CASE WHEN CAST(prepay_months AS INTEGER) <= 0 THEN 0
              ELSE MIN(CAST(julianday(date(starts_on, '+' || prepay_months || ' months')) - julianday(starts_on) AS INTEGER),
                       CAST(julianday(ends_on) - julianday(starts_on) AS INTEGER) + 1) END AS covered,
         CAST(julianday(ends_on) - julianday(starts_on) AS INTEGER) + 1 AS days,
         (COALESCE(i.licence_no, '') <> '' AND i.licence_issued <= '2019-02-20' AND i.licence_expires >= '2019-02-20') AS licensed
  FROM courses c LEFT JOIN institutions i ON i.id = c.institution_id
  WHERE c.status = 'filed' AND c.filed_on <= '2019-02-20'
), r AS (
  SELECT *,
    rtrim(
      CASE WHEN endm > CASE WHEN mode = 'online' THEN 1260 ELSE 1230 END THEN
        CASE WHEN mode = 'online'
          THEN printf('下课时间 %s 晚于 21:00（线上） / online classes end at %s, after 21:00；', daily_end_time, daily_end_time)
          ELSE printf('下课时间 %s 晚于 20:30（线下） / classes end at %s, after 20:30；', daily_end_time, daily_end_time) END
      ELSE '' END ||
      CASE WHEN CAST(prepay_months AS INTEGER) > 3 THEN
        printf('一次预收 %d 个月费用，超过 3 个月 / one prepayment covers %d months, more than 3；', prepay_months, prepay_months)
      ELSE '' END ||
      CASE WHEN CAST(class_hours AS INTEGER) * covered > 60 * days THEN
        printf('一次预收约 %.1f 课时费用，超过 60 课时 / one prepayment covers about %.1f class hours, more than 60；',
               CAST(class_hours AS REAL) * covered / days, CAST(class_hours AS REAL) * covered / days)
      ELSE '' END ||
      CASE WHEN subject_type = 'subject' AND NOT licensed THEN
        '学科类课程，机构无有效办学许可证 / subject-type course at an institution without a valid licence；'
      ELSE '' END ||
      CASE WHEN subject_type = 'non_subject' AND CAST(fee_total AS REAL) * covered > 5000 * days THEN
        printf('非学科类一次预收 %,.2f 元，超过 5,000 元 / non-subject prepayment of %,.2f yuan, more than 5,000；',
               CAST(fee_total AS REAL) * covered / days, CAST(fee_total AS REAL) * covered / days)
      ELSE '' END, '；') AS reasons
  FROM c
)
SELECT id, institution_id, inst_name AS name, district, name AS course, subject_type, mode, filed_on,
       'reject' AS decision, '驳回' AS 决定, reasons, 'false' AS applied
FROM r WHERE reasons <> '' ORDER BY institution_id, id;
