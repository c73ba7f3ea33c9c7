YAKKAN_CACHE_MAX=lots outline denwa
