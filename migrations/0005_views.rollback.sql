-- Undo 0005_views.
drop view if exists run_statistics;
drop view if exists trials;
drop view if exists model_registry;
drop view if exists leaderboard;
drop view if exists run_summaries;
