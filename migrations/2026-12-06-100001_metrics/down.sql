DROP TABLE metrics;
DROP FUNCTION tg_metrics_notify();
