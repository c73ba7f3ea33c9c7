graph demo --impact 第9条
