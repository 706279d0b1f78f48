-- Device search (a case-insensitive substring of the name or the address) through a trigram
-- full-text index instead of a scan of every device: FTS5's trigram tokenizer answers a
-- quoted phrase of three characters or more as a substring match. The index keeps no copy of
-- the text (external content); triggers keep it in step with the devices table.
CREATE VIRTUAL TABLE device_search USING fts5(name, address, content='devices', content_rowid='id', tokenize='trigram');
INSERT INTO device_search(device_search) VALUES ('rebuild');
CREATE TRIGGER device_search_insert AFTER INSERT ON devices BEGIN INSERT INTO device_search(rowid, name, address) VALUES (new.id, new.name, new.address); END;
CREATE TRIGGER device_search_delete AFTER DELETE ON devices BEGIN INSERT INTO device_search(device_search, rowid, name, address) VALUES ('delete', old.id, old.name, old.address); END;
CREATE TRIGGER device_search_update AFTER UPDATE OF name, address ON devices BEGIN INSERT INTO device_search(device_search, rowid, name, address) VALUES ('delete', old.id, old.name, old.address); INSERT INTO device_search(rowid, name, address) VALUES (new.id, new.name, new.address); END;
