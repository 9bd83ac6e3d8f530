ALTER TABLE widgets ADD COLUMN label text NOT NULL DEFAULT $$its "quoted"$$;
