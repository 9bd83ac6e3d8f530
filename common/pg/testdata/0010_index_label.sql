CREATE INDEX widgets_label ON widgets (label);
