DROP TABLE design_decisions;
DROP TABLE designs;
