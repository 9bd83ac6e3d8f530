DROP INDEX widgets_label;
