-- What each device is (issue #16): its 種別 as daicho-identify names it
-- (server, workstation, switch, printer, medical_imaging …), and the whole
-- identification — every value with its source and confidence — as JSON.
ALTER TABLE devices ADD COLUMN kind TEXT;
ALTER TABLE devices ADD COLUMN identity TEXT;
